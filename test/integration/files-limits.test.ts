import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { callApp, expectProblem } from "../helpers/app-env";
import { API, authedFetch, createUser, randomIp, type TestUser } from "../helpers/auth";
import { bytesOf, PNG, upload, uploadForm } from "./files-fixtures";

const MIB = 1_048_576;
let user: TestUser;

beforeAll(async () => {
  user = await createUser();
});

/** A PNG-signed file of exactly `size` bytes (the content check reads the signature). */
function pngOfSize(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let offset = PNG.byteLength; offset < size; offset += 65_536) crypto.getRandomValues(bytes.subarray(offset, Math.min(size, offset + 65_536)));
  bytes.set(PNG.subarray(0, Math.min(PNG.byteLength, size)));
  return bytes;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** An upload through a fresh app with other settings (smaller limits and quotas). */
function uploadWith(settings: Record<string, string>, token: string, bytes: Uint8Array, name: string): Promise<Response> {
  return callApp(`${API}/files`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "CF-Connecting-IP": randomIp() }, body: uploadForm(bytes, { name }) }, { env: settings });
}

describe("size limit (default MAX_UPLOAD_BYTES, 10 MiB)", () => {
  it("accepts a file of exactly the limit and returns it intact", async () => {
    const bytes = pngOfSize(10 * MIB);
    const response = await upload(user.accessToken, bytes, { name: "big.png" });
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as { id: string };
    const content = await authedFetch(`/files/${id}/content`, user.accessToken);
    // Compared by digest: a deep toEqual over ten million elements exhausts the test isolate's heap.
    expect(await sha256Hex(await bytesOf(content))).toBe(await sha256Hex(bytes));
    expect((await authedFetch(`/files/${id}`, user.accessToken, { method: "DELETE" })).status).toBe(204);
  });

  it("refuses one byte more with 413 and keeps serving the next request", async () => {
    const body = await expectProblem(await upload(user.accessToken, pngOfSize(10 * MIB + 1), { name: "big.png" }), 413, "payload_too_large");
    expect(body.max_bytes).toBe(10 * MIB);
    expect((await authedFetch("/files", user.accessToken)).status).toBe(200);
  });

  it("refuses a declared Content-Length far over the limit, even before authenticating", async () => {
    await expectProblem(await upload(undefined, pngOfSize(12 * MIB), { name: "huge.png" }), 413, "payload_too_large");
    expect((await authedFetch("/files", user.accessToken)).status).toBe(200);
  });
});

describe("size limit while streaming", () => {
  it("counts a body without Content-Length and refuses it past the limit", async () => {
    const form = new Response(uploadForm(pngOfSize(200_000), { name: "streamed.png" }));
    const contentType = form.headers.get("Content-Type")!;
    const request = new Request(`${API}/files`, {
      method: "POST",
      headers: { Authorization: `Bearer ${user.accessToken}`, "Content-Type": contentType, "CF-Connecting-IP": randomIp() },
      body: form.body,
      duplex: "half",
    } as RequestInit);
    expect(request.headers.get("Content-Length")).toBeNull();
    const response = await callApp(request, undefined, { env: { MAX_UPLOAD_BYTES: "1024" } });
    const problem = await expectProblem(response, 413, "payload_too_large");
    expect(problem.max_bytes).toBe(1024);
  });

  it("refuses a file over the limit whose body fits the multipart allowance", async () => {
    await expectProblem(await uploadWith({ MAX_UPLOAD_BYTES: "1024" }, user.accessToken, pngOfSize(1025), "a.png"), 413, "payload_too_large");
    expect((await uploadWith({ MAX_UPLOAD_BYTES: "1024" }, user.accessToken, pngOfSize(1024), "a.png")).status).toBe(201);
  });
});

describe("storage quota", () => {
  const QUOTA = { FILES_QUOTA_BYTES: "1000" };

  it("admits exactly what fits when uploads race", async () => {
    const racer = await createUser();
    const responses = await Promise.all(Array.from({ length: 12 }, (_, index) => uploadWith(QUOTA, racer.accessToken, pngOfSize(300), `race-${index}.png`)));
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(3);
    expect(statuses.filter((status) => status === 413)).toHaveLength(9);
    for (const response of responses.filter((candidate) => candidate.status === 413)) {
      const body = await expectProblem(response, 413, "payload_too_large");
      expect(body).toMatchObject({ reason: "quota_exceeded", quota_bytes: 1000, requested_bytes: 300 });
    }
    const stored = await env.DB.prepare("select count(*) as n, sum(size) as bytes from files where owner_id = ?").bind(racer.id).first<{ n: number; bytes: number }>();
    expect(stored).toEqual({ n: 3, bytes: 900 });
    expect((await env.FILES.list({ prefix: `files/${racer.id}/` })).objects).toHaveLength(3);
  });

  it("states the numbers, and a deletion gives the bytes back", async () => {
    const owner = await createUser();
    const first = await uploadWith(QUOTA, owner.accessToken, pngOfSize(600), "first.png");
    expect(first.status).toBe(201);
    const refused = await expectProblem(await uploadWith(QUOTA, owner.accessToken, pngOfSize(500), "second.png"), 413, "payload_too_large");
    expect(refused).toMatchObject({ reason: "quota_exceeded", quota_bytes: 1000, used_bytes: 600, requested_bytes: 500, remaining_bytes: 400 });

    const { id } = (await first.json()) as { id: string };
    expect((await authedFetch(`/files/${id}`, owner.accessToken, { method: "DELETE" })).status).toBe(204);
    expect((await uploadWith(QUOTA, owner.accessToken, pngOfSize(500), "second.png")).status).toBe(201);
  });

  it("is per user", async () => {
    const [one, two] = await Promise.all([createUser(), createUser()]);
    expect((await uploadWith(QUOTA, one.accessToken, pngOfSize(900), "a.png")).status).toBe(201);
    expect((await uploadWith(QUOTA, two.accessToken, pngOfSize(900), "a.png")).status).toBe(201);
  });
});
