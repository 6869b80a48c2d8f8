import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../../src/config";
import { parseConfig } from "../../src/env";
import { signDownload } from "../../src/modules/files/files.links";
import { expectProblem, expectSecurityHeaders } from "../helpers/app-env";
import { authedFetch, checkedFetch, createUser, randomIp, type TestUser } from "../helpers/auth";
import { bytesOf, PDF, TEXT, upload } from "./files-fixtures";

interface FileJson {
  id: string;
  sha256: string;
  size: number;
}
interface LinkJson {
  url: string;
  expires_at: string;
}

const DOWNLOAD_CSP = "sandbox; default-src 'none'";
let user: TestUser;
let pdf: FileJson;
let text: FileJson;

const anonymous = (url: string, headers: Record<string, string> = {}) => checkedFetch(url, { headers: { "CF-Connecting-IP": randomIp(), ...headers } });

function testConfig(): Config {
  const result = parseConfig(env);
  if (!result.ok) throw new Error(result.problems.join("; "));
  return result.config;
}

beforeAll(async () => {
  user = await createUser();
  pdf = await (await upload(user.accessToken, PDF, { name: "Quarterly report — Zürich (final).pdf" })).json();
  text = await (await upload(user.accessToken, TEXT, { name: "notes.txt" })).json();
});

describe("GET /api/v1/files/{id}/content", () => {
  it("sends the bytes as a download that cannot run in the browser", async () => {
    const response = await authedFetch(`/files/${pdf.id}/content`, user.accessToken);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/pdf");
    expect(response.headers.get("Content-Disposition")).toBe(
      "attachment; filename=\"Quarterly report _ Z_rich (final).pdf\"; filename*=UTF-8''Quarterly%20report%20%E2%80%94%20Z%C3%BCrich%20%28final%29.pdf",
    );
    expect(response.headers.get("Cache-Control")).toBe("private");
    expect(response.headers.get("ETag")).toBe(`"${pdf.sha256}"`);
    expect(response.headers.get("Accept-Ranges")).toBe("bytes");
    expect(response.headers.get("Content-Length")).toBe(String(PDF.byteLength));
    expectSecurityHeaders(response, DOWNLOAD_CSP);
    expect(await bytesOf(response)).toEqual(PDF);
  });

  it("serves text as UTF-8", async () => {
    const response = await authedFetch(`/files/${text.id}/content`, user.accessToken);
    expect(response.headers.get("Content-Type")).toBe("text/plain; charset=utf-8");
    expect(await response.text()).toBe(new TextDecoder().decode(TEXT));
  });

  it("answers 304 when If-None-Match names the ETag, 200 otherwise", async () => {
    const etag = `"${pdf.sha256}"`;
    const notModified = await authedFetch(`/files/${pdf.id}/content`, user.accessToken, { headers: { "If-None-Match": `"other", ${etag}` } });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("ETag")).toBe(etag);
    expect(await notModified.text()).toBe("");
    const weak = await authedFetch(`/files/${pdf.id}/content`, user.accessToken, { headers: { "If-None-Match": `W/${etag}` } });
    expect(weak.status).toBe(304);
    const changed = await authedFetch(`/files/${pdf.id}/content`, user.accessToken, { headers: { "If-None-Match": '"stale"' } });
    expect(changed.status).toBe(200);
    await changed.arrayBuffer();
  });

  it.each([
    ["bytes=0-9", 0, 9],
    ["bytes=10-", 10, PDF.byteLength - 1],
    ["bytes=-16", PDF.byteLength - 16, PDF.byteLength - 1],
    [`bytes=5-${PDF.byteLength + 100}`, 5, PDF.byteLength - 1],
  ])("answers %s with 206 and exactly those bytes", async (range, first, last) => {
    const response = await authedFetch(`/files/${pdf.id}/content`, user.accessToken, { headers: { Range: range } });
    expect(response.status).toBe(206);
    expect(response.headers.get("Content-Range")).toBe(`bytes ${first}-${last}/${PDF.byteLength}`);
    expect(response.headers.get("Content-Length")).toBe(String(last - first + 1));
    expect(response.headers.get("Content-Disposition")).toMatch(/^attachment;/);
    expect(await bytesOf(response)).toEqual(PDF.slice(first, last + 1));
  });

  it("answers 416 for a range past the end", async () => {
    const response = await authedFetch(`/files/${pdf.id}/content`, user.accessToken, { headers: { Range: `bytes=${PDF.byteLength}-` } });
    expect(response.status).toBe(416);
    expect(response.headers.get("Content-Range")).toBe(`bytes */${PDF.byteLength}`);
    expect(response.headers.get("Content-Type")).toBe("application/problem+json");
  });

  it("sends the whole file for a malformed range or a stale If-Range", async () => {
    const variants: Record<string, string>[] = [{ Range: "bytes=abc" }, { Range: "bytes=0-9", "If-Range": '"stale"' }];
    for (const headers of variants) {
      const response = await authedFetch(`/files/${pdf.id}/content`, user.accessToken, { headers });
      expect(response.status).toBe(200);
      expect(await bytesOf(response)).toEqual(PDF);
    }
  });

  it("answers 401 without a token", async () => {
    await expectProblem(await anonymous(`http://localhost/api/v1/files/${pdf.id}/content`), 401, "unauthorized");
  });
});

describe("signed links", () => {
  async function createLink(fileId: string, body?: unknown): Promise<Response> {
    return authedFetch(`/files/${fileId}/link`, user.accessToken, { method: "POST", ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  }

  it("downloads without an Authorization header, with the same safe headers", async () => {
    const created = await createLink(pdf.id);
    expect(created.status).toBe(201);
    const link = (await created.json()) as LinkJson;
    const url = new URL(link.url);
    expect(url.origin + url.pathname).toBe(`http://localhost/api/v1/files/${pdf.id}/download`);
    const ttl = (Date.parse(link.expires_at) - Date.now()) / 1000;
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);

    const response = await anonymous(link.url);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Disposition")).toMatch(/^attachment; .*filename\*=UTF-8''Quarterly/);
    expect(response.headers.get("Cache-Control")).toBe("private");
    expectSecurityHeaders(response, DOWNLOAD_CSP);
    expect(await bytesOf(response)).toEqual(PDF);

    const ranged = await anonymous(link.url, { Range: "bytes=0-4" });
    expect(ranged.status).toBe(206);
    expect(await ranged.text()).toBe("%PDF-");
  });

  it("honours a shorter expires_in and refuses one above FILE_LINK_TTL", async () => {
    const short = (await (await createLink(text.id, { expires_in: 30 })).json()) as LinkJson;
    expect((Date.parse(short.expires_at) - Date.now()) / 1000).toBeLessThanOrEqual(30);
    const body = await expectProblem(await createLink(text.id, { expires_in: 3_600 }), 422, "validation_failed");
    expect(body.errors?.[0]?.path).toBe("body.expires_in");
  });

  it("refuses an altered signature, expiry or file id with 403", async () => {
    const link = new URL(((await (await createLink(text.id)).json()) as LinkJson).url);
    const signature = link.searchParams.get("signature")!;
    const expires = link.searchParams.get("expires")!;
    const flipped = `${signature.slice(0, -1)}${signature.endsWith("A") ? "B" : "A"}`;
    const variants = [
      `${link.origin}${link.pathname}?expires=${expires}&signature=${flipped}`,
      `${link.origin}${link.pathname}?expires=${Number(expires) + 3600}&signature=${signature}`,
      `${link.origin}/api/v1/files/${pdf.id}/download?expires=${expires}&signature=${signature}`,
      `${link.origin}${link.pathname}?expires=${expires}`,
      `${link.origin}${link.pathname}`,
    ];
    for (const variant of variants) await expectProblem(await anonymous(variant), 403, "forbidden");
  });

  it("refuses an expired link with 403", async () => {
    const expires = Math.floor(Date.now() / 1000) - 1;
    const signature = await signDownload(testConfig(), text.id, expires);
    const body = await expectProblem(await anonymous(`http://localhost/api/v1/files/${text.id}/download?expires=${expires}&signature=${signature}`), 403, "forbidden");
    expect(body.detail).toMatch(/expired/);
  });

  it("stops working once the file is deleted", async () => {
    const file = (await (await upload(user.accessToken, TEXT, { name: "short-lived.txt" })).json()) as FileJson;
    const link = ((await (await createLink(file.id)).json()) as LinkJson).url;
    expect((await authedFetch(`/files/${file.id}`, user.accessToken, { method: "DELETE" })).status).toBe(204);
    await expectProblem(await anonymous(link), 404, "not_found");
  });

  it("needs a token to create a link", async () => {
    const response = await SELF.fetch(`http://localhost/api/v1/files/${text.id}/link`, { method: "POST", headers: { "CF-Connecting-IP": randomIp() } });
    await expectProblem(response, 401, "unauthorized");
  });
});
