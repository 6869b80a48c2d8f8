import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { callApp, expectProblem, expectSecurityHeaders } from "../helpers/app-env";

const BASE = "http://localhost";
const MIB = 1_048_576;
const JSON_HEADERS = { "Content-Type": "application/json" };

/** A body that arrives in chunks with no Content-Length (Transfer-Encoding: chunked). */
function chunkedBody(totalBytes: number, chunkBytes = 64 * 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= totalBytes) return controller.close();
      const size = Math.min(chunkBytes, totalBytes - sent);
      controller.enqueue(new Uint8Array(size).fill(0x20));
      sent += size;
    },
  });
}

const probe = (path: string, init: RequestInit, env: Record<string, unknown> = {}) =>
  callApp(`${BASE}${path}`, init, { probes: true, env });

describe("body size limit (MAX_BODY_BYTES, 1 MiB by default)", () => {
  it("refuses a 2 MiB body with Content-Length before parsing it", async () => {
    const response = await SELF.fetch(`${BASE}/health`, { method: "POST", headers: JSON_HEADERS, body: `"${"x".repeat(2 * MIB)}"` });
    const body = await expectProblem(response, 413, "payload_too_large");
    expect(body.max_bytes).toBe(MIB);
    expectSecurityHeaders(response);
  });

  it("refuses a chunked body with no Content-Length once it passes the limit", async () => {
    const response = await SELF.fetch(`${BASE}/health`, { method: "POST", headers: JSON_HEADERS, body: chunkedBody(2 * MIB) });
    await expectProblem(response, 413, "payload_too_large");
  });

  it("checks the size before the route: a big body to an unknown path is still 413", async () => {
    const response = await SELF.fetch(`${BASE}/nope`, { method: "PUT", headers: JSON_HEADERS, body: "x".repeat(MIB + 1) });
    await expectProblem(response, 413, "payload_too_large");
  });

  it("counts the bytes when Content-Length claims less than is sent", async () => {
    const request = new Request(`${BASE}/test/echo`, {
      method: "POST",
      headers: { ...JSON_HEADERS, "Content-Length": "10" },
      body: `"${"x".repeat(5_000)}"`,
    });
    expect(request.headers.get("Content-Length")).toBe("10");
    await expectProblem(await callApp(request, undefined, { probes: true, env: { MAX_BODY_BYTES: "1024" } }), 413, "payload_too_large");
  });

  it("refuses a declared length over the limit without reading the body", async () => {
    const request = new Request(`${BASE}/test/echo`, {
      method: "POST",
      headers: { ...JSON_HEADERS, "Content-Length": "2000" },
      body: "[]",
    });
    await expectProblem(await callApp(request, undefined, { probes: true, env: { MAX_BODY_BYTES: "1024" } }), 413, "payload_too_large");
  });

  it("lets a body of exactly the limit through to the handler, whole", async () => {
    const body = `"${"y".repeat(1024 - 2)}"`;
    const response = await probe("/test/echo", { method: "POST", headers: JSON_HEADERS, body }, { MAX_BODY_BYTES: "1024" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ bytes: 1024 });
  });

  it("refuses one byte over the limit", async () => {
    const body = `"${"y".repeat(1024 - 1)}"`;
    await expectProblem(await probe("/test/echo", { method: "POST", headers: JSON_HEADERS, body }, { MAX_BODY_BYTES: "1024" }), 413, "payload_too_large");
  });

  it("lets a chunked body under the limit through to the handler, whole", async () => {
    const parts = ["[", ...Array.from({ length: 100 }, () => "0,".repeat(1_500)), "0]"];
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const part = parts.shift();
        if (part === undefined) controller.close();
        else controller.enqueue(encoder.encode(part));
      },
    });
    const request = new Request(`${BASE}/test/echo`, { method: "POST", headers: JSON_HEADERS, body });
    expect(request.headers.get("Content-Length")).toBeNull();
    const response = await callApp(request, undefined, { probes: true });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ bytes: 300_003 });
  });

  it("lets an empty POST through (no body is not an error)", async () => {
    const response = await probe("/test/echo", { method: "POST", body: "" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ bytes: 0 });
  });
});

describe("JSON bodies", () => {
  const validItem = { name: "Widget", email: "buyer@example.com", quantity: 2 };

  it("accepts application/json and hands the validated body to the handler", async () => {
    const response = await probe("/test/items", { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(validItem) });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual(validItem);
  });

  it.each(["application/json; charset=utf-8", "application/json;charset=UTF-8", 'application/json; charset="utf-8"'])(
    "accepts %s",
    async (contentType) => {
      const response = await probe("/test/items", { method: "POST", headers: { "Content-Type": contentType }, body: JSON.stringify(validItem) });
      expect(response.status).toBe(201);
    },
  );

  it.each([
    ["text/plain", JSON.stringify({ name: "Widget" })],
    ["application/x-www-form-urlencoded", "name=Widget"],
    ["multipart/form-data; boundary=x", "--x--"],
    ["application/json; charset=latin1", "{}"],
    ["application/jsonp", "{}"],
  ])("refuses %s with 415", async (contentType, body) => {
    const response = await probe("/test/items", { method: "POST", headers: { "Content-Type": contentType }, body });
    await expectProblem(response, 415, "unsupported_media_type");
    expect(response.headers.get("Accept-Post")).toBe("application/json");
  });

  it("refuses a body with no Content-Type with 415", async () => {
    const request = new Request(`${BASE}/test/items`, { method: "POST", body: new Blob([JSON.stringify(validItem)]) });
    request.headers.delete("Content-Type");
    await expectProblem(await callApp(request, undefined, { probes: true }), 415, "unsupported_media_type");
  });

  it("refuses a declared non-JSON type even with an empty body (415, not 500)", async () => {
    const response = await probe("/test/items", { method: "POST", headers: { "Content-Type": "text/plain" }, body: "" });
    await expectProblem(response, 415, "unsupported_media_type");
  });

  it.each(["{", "{'name': 'x'}", '{"name": "x",}', "undefined"])("refuses malformed JSON %j with 400", async (body) => {
    const response = await probe("/test/items", { method: "POST", headers: JSON_HEADERS, body });
    const problem = await expectProblem(response, 400, "invalid_json");
    expect(problem.detail).toBe("The request body is not valid JSON.");
  });

  it("refuses a body that is not UTF-8 with 400", async () => {
    const latin1 = new Uint8Array([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]); // {"n":"\xe9"}
    const response = await probe("/test/items", { method: "POST", headers: JSON_HEADERS, body: latin1 });
    await expectProblem(response, 400, "invalid_json");
  });

  it("refuses malformed JSON on any path, before routing (through the worker)", async () => {
    await expectProblem(await SELF.fetch(`${BASE}/health`, { method: "POST", headers: JSON_HEADERS, body: "{" }), 400, "invalid_json");
    await expectProblem(await SELF.fetch(`${BASE}/health`, { method: "POST", headers: { "Content-Type": "text/plain" }, body: "{}" }), 415, "unsupported_media_type");
  });

  it("answers 422 naming every invalid field", async () => {
    const response = await probe("/test/items", {
      method: "POST",
      headers: JSON_HEADERS,
      body: JSON.stringify({ name: "", email: "not-an-email", quantity: 1.5 }),
    });
    const problem = await expectProblem(response, 422, "validation_failed");
    expect(problem.errors?.map((error) => error.path).sort()).toEqual(["body.email", "body.name", "body.quantity"]);
    for (const error of problem.errors ?? []) expect(error.message.length).toBeGreaterThan(0);
  });

  it("answers 422 for missing fields in an empty object, and for a body that is not an object", async () => {
    const missing = await expectProblem(await probe("/test/items", { method: "POST", headers: JSON_HEADERS, body: "{}" }), 422, "validation_failed");
    expect(missing.errors?.map((error) => error.path).sort()).toEqual(["body.email", "body.name", "body.quantity"]);
    expect(missing.errors?.map((error) => error.message)).toEqual(["required", "required", "required"]);
    const array = await expectProblem(await probe("/test/items", { method: "POST", headers: JSON_HEADERS, body: "[]" }), 422, "validation_failed");
    expect(array.errors).toEqual([{ path: "body", message: expect.any(String) }]);
  });

  it("answers 422 for a missing body on a route that requires one", async () => {
    const problem = await expectProblem(await probe("/test/items", { method: "POST" }), 422, "validation_failed");
    expect(problem.errors?.length).toBe(3);
  });

  it("names query parameters in errors with their own prefix", async () => {
    const response = await probe("/test/items?dry_run=maybe", { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(validItem) });
    const problem = await expectProblem(response, 422, "validation_failed");
    expect(problem.errors).toEqual([{ path: "query.dry_run", message: expect.any(String) }]);
  });
});
