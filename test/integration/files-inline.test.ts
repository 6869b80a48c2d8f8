import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { expectProblem } from "../helpers/app-env";
import { authedFetch, checkedFetch, createUser, randomIp, type TestUser } from "../helpers/auth";
import { bytesOf, GIF, PDF, PNG, TEXT, upload } from "./files-fixtures";

/** A frontend origin of the vitest configuration (CORS_ORIGINS). */
const FRONTEND = "https://app.example.com";

let user: TestUser;

async function uploaded(bytes: Uint8Array, name: string): Promise<string> {
  const response = await upload(user.accessToken, bytes, { name });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

async function signedLink(fileId: string): Promise<string> {
  const response = await authedFetch(`/files/${fileId}/link`, user.accessToken, { method: "POST" });
  expect(response.status).toBe(201);
  return ((await response.json()) as { url: string }).url;
}

const fetchLink = (url: string, headers: Record<string, string> = {}) => checkedFetch(url, { headers: { "CF-Connecting-IP": randomIp(), ...headers } });
const inline = (url: string) => `${url}&disposition=inline`;

/** Another type stored for an uploaded file, as a changed allowlist or a bug could leave behind. */
async function storedAs(fileId: string, contentType: string): Promise<void> {
  await env.DB.prepare("update files set content_type = ? where id = ?").bind(contentType, fileId).run();
}

beforeAll(async () => {
  user = await createUser();
});

describe("signed links with disposition=inline", () => {
  it("serve a PNG inline, embeddable by a frontend page (Referer), still sandboxed and unsniffable", async () => {
    const link = await signedLink(await uploaded(PNG, "chart.png"));
    const response = await fetchLink(inline(link), { Referer: `${FRONTEND}/dashboard?tab=2`, "Sec-Fetch-Dest": "image" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("image/png");
    expect(response.headers.get("Content-Disposition")).toBe("inline; filename=\"chart.png\"; filename*=UTF-8''chart.png");
    expect(response.headers.get("Cross-Origin-Resource-Policy")).toBe("cross-origin");
    expect(response.headers.get("Vary")).toContain("Referer");
    expect(response.headers.get("Content-Security-Policy")).toBe("sandbox; default-src 'none'");
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(await bytesOf(response)).toEqual(PNG);
  });

  it("allows a CORS-mode <img crossorigin> from a frontend origin (Origin), echoing it", async () => {
    const link = await signedLink(await uploaded(GIF, "dot.gif"));
    const response = await fetchLink(inline(link), { Origin: FRONTEND });
    expect(response.status).toBe(200);
    expect(response.headers.get("Cross-Origin-Resource-Policy")).toBe("cross-origin");
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(FRONTEND);
    expect(response.headers.get("Content-Disposition")).toMatch(/^inline;/);
  });

  it("keeps CORP same-origin for any other embedder, or none named", async () => {
    const link = await signedLink(await uploaded(PNG, "private.png"));
    const embedders: Record<string, string>[] = [{ Referer: "https://evil.example/page" }, { Origin: "https://evil.example" }, { Origin: "null" }, { Referer: "not a url" }, {}];
    for (const headers of embedders) {
      const response = await fetchLink(inline(link), headers);
      expect(response.status).toBe(200);
      expect(response.headers.get("Cross-Origin-Resource-Policy"), JSON.stringify(headers)).toBe("same-origin");
      expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
    }
  });

  it("stays an attachment with CORP same-origin without the parameter, even from a frontend page", async () => {
    const link = await signedLink(await uploaded(PNG, "plain.png"));
    for (const url of [link, `${link}&disposition=attachment`]) {
      const response = await fetchLink(url, { Referer: `${FRONTEND}/` });
      expect(response.headers.get("Content-Disposition")).toMatch(/^attachment;/);
      expect(response.headers.get("Cross-Origin-Resource-Policy")).toBe("same-origin");
    }
  });

  it.each([
    ["a PDF", PDF, "application/pdf", "report.pdf"],
    ["text", TEXT, "text/plain", "notes.txt"],
  ])("refuses %s inline with a 422 naming the parameter", async (_label, bytes, type, name) => {
    const link = await signedLink(await uploaded(bytes, name));
    const problem = await expectProblem(await fetchLink(inline(link), { Referer: `${FRONTEND}/` }), 422, "validation_failed");
    expect(problem.errors).toEqual([{ path: "query.disposition", message: `inline is not allowed for ${type}; use attachment` }]);
  });

  it.each(["image/svg+xml", "text/html", "application/xhtml+xml", "application/pdf", "text/xml"])("never serves active content stored as %s inline", async (type) => {
    const id = await uploaded(PNG, "disguised.png");
    const link = await signedLink(id);
    await storedAs(id, type);
    await expectProblem(await fetchLink(inline(link), { Referer: `${FRONTEND}/`, Origin: FRONTEND }), 422, "validation_failed");
    // Unchecked fetch: the forged type is one the service can never store, so no document declares it.
    const download = await SELF.fetch(link, { headers: { "CF-Connecting-IP": randomIp(), Referer: `${FRONTEND}/` } });
    expect(download.headers.get("Content-Disposition")).toMatch(/^attachment;/);
    expect(download.headers.get("Cross-Origin-Resource-Policy")).toBe("same-origin");
    expect(download.headers.get("Content-Security-Policy")).toBe("sandbox; default-src 'none'");
  });

  it("checks the signature before anything else, and refuses unknown dispositions", async () => {
    const link = new URL(await signedLink(await uploaded(PNG, "x.png")));
    link.searchParams.set("signature", "A".repeat(43));
    link.searchParams.set("disposition", "inline");
    await expectProblem(await fetchLink(link.toString()), 403, "forbidden");
    link.searchParams.set("disposition", "render");
    const problem = await expectProblem(await fetchLink(link.toString()), 422, "validation_failed");
    expect(problem.errors?.[0]?.path).toBe("query.disposition");
  });
});
