import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { callApp, expectProblem, expectSecurityHeaders } from "../helpers/app-env";

const BASE = "http://localhost";

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  servers: { url: string }[];
  components: { securitySchemes: Record<string, unknown> };
  paths: Record<string, Record<string, { operationId?: string; responses: Record<string, { content?: Record<string, unknown> }> }>>;
}

async function sha256Base64(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

describe("/openapi.json", () => {
  it("is an OpenAPI 3.1 document with the Bearer JWT scheme", async () => {
    const response = await SELF.fetch(`${BASE}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    const document = (await response.json()) as OpenApiDocument;
    expect(document.openapi).toBe("3.1.0");
    expect(document.info.title).toBe("Edge Auth API");
    expect(document.servers[0]?.url).toBe("http://localhost");
    expect(document.components.securitySchemes.Bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(["/", "/health", "/health/ready", "/problems", "/problems/{code}"]));
    expectSecurityHeaders(response);
  });

  it("declares the shared problem responses on every operation", async () => {
    const document = (await (await SELF.fetch(`${BASE}/openapi.json`)).json()) as OpenApiDocument;
    const missing: string[] = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const status of ["500", "503"]) {
          if (!operation.responses[status]?.content?.["application/problem+json"]) missing.push(`${method.toUpperCase()} ${path} ${status}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});

describe("/docs", () => {
  it("serves Swagger UI from the worker under a CSP that pins the inline script by hash", async () => {
    const response = await SELF.fetch(`${BASE}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain('<div id="swagger-ui">');
    expect(html).toContain('src="/docs/vendor/swagger-ui-dist/swagger-ui-bundle.js"');
    expect(html).toContain('href="/docs/vendor/swagger-ui-dist/swagger-ui.css"');
    expect(html).toContain("/openapi.json");
    // Nothing leaves the origin: no CDN or other absolute URL.
    expect(html).not.toMatch(/https?:\/\//);

    const csp = response.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/]+=*'/);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/https?:|\*|'unsafe-eval'/);
    // The pinned hash is the hash of the page's inline script, so the browser will run it.
    const inline = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? "";
    expect(inline).toContain("SwaggerUIBundle");
    expect(csp).toContain(`'sha256-${await sha256Base64(inline)}'`);
    expectSecurityHeaders(response, /script-src 'self' 'sha256-/);
  });

  it("serves the Swagger UI bundle itself", async () => {
    const response = await SELF.fetch(`${BASE}/docs/vendor/swagger-ui-dist/swagger-ui-bundle.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/javascript/);
    expect((await response.text()).length).toBeGreaterThan(100_000);
    const css = await SELF.fetch(`${BASE}/docs/vendor/swagger-ui-dist/swagger-ui.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get("Content-Type")).toMatch(/^text\/css/);
  });

  it("answers a missing vendor file with a 404 problem", async () => {
    await expectProblem(await SELF.fetch(`${BASE}/docs/vendor/swagger-ui-dist/nope.js`), 404, "not_found");
  });

  it("hides /docs and /openapi.json when DOCS_PUBLIC=false", async () => {
    for (const path of ["/docs", "/openapi.json"]) {
      const response = await callApp(`${BASE}${path}`, undefined, { env: { DOCS_PUBLIC: "false" } });
      // 404 until RBAC guards the docs with `docs:read`; an anonymous caller then gets 401.
      expect([401, 404], path).toContain(response.status);
      const text = await response.text();
      expect(text).not.toContain("swagger");
      expect(text).not.toContain("openapi\":");
    }
  });
});
