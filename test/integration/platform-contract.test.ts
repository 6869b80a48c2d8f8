import { SELF } from "cloudflare:test";
import rbacDoc from "../../docs/rbac.md?raw";
import { beforeAll, describe, expect, it } from "vitest";
import { AUDIT_ACTION_NAMES } from "../../src/lib/audit-actions";
import { callApp, expectProblem } from "../helpers/app-env";
import { authedFetch, BASE, randomIp, type TestUser } from "../helpers/auth";
import { call, createAdmin, expectJson } from "../helpers/rbac";

/* What the document promises is what the server does: query parameters, configured bounds, audit actions. */

interface Operation {
  parameters?: { name: string; in: string }[];
}
type Document = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

let document: Document;
let admin: TestUser;

beforeAll(async () => {
  document = await expectJson<Document>(await SELF.fetch(`${BASE}/openapi.json`), 200);
  admin = await createAdmin();
});

describe("unknown query parameters", () => {
  it("are a 422 naming them instead of being ignored", async () => {
    const problem = await expectProblem(await authedFetch("/users?email=ada@example.com&limit=5", admin.accessToken), 422, "validation_failed");
    expect(problem.errors).toEqual([{ path: "query.email", message: "unknown query parameter" }]);
    expect(problem.unknown_parameters).toEqual(["email"]);
    expect((await authedFetch("/users?limit=5", admin.accessToken)).status).toBe(200);
    await expectProblem(await authedFetch("/users/me?verbose=1", admin.accessToken), 422, "validation_failed");
  });

  it("are refused on every operation of the document, whatever it is", async () => {
    for (const [path, item] of Object.entries(document.paths)) {
      for (const method of ["get", "post", "put", "patch", "delete"].filter((name) => item[name])) {
        const url = `${BASE}${path.replace(/\{[^}]+\}/g, () => crypto.randomUUID())}?zz_not_a_parameter=1`;
        const response = await SELF.fetch(url, { method: method.toUpperCase(), headers: { "CF-Connecting-IP": randomIp() } });
        expect(response.status, `${method.toUpperCase()} ${path}`).toBe(422);
        expect((await response.json<{ errors: unknown[] }>()).errors, path).toEqual([{ path: "query.zz_not_a_parameter", message: "unknown query parameter" }]);
      }
    }
  });
});

type JsonNode = Record<string, unknown>;
function configBounded(node: unknown, found: JsonNode[] = []): JsonNode[] {
  if (Array.isArray(node)) node.forEach((item) => configBounded(item, found));
  else if (node && typeof node === "object") {
    if ("x-config-max" in node) found.push(node as JsonNode);
    Object.values(node).forEach((value) => configBounded(value, found));
  }
  return found;
}

describe("documented limits", () => {
  const defaults: Record<string, number> = { FILE_LINK_TTL: 300, API_KEY_MAX_TTL: 31_536_000, API_KEY_MAX_ROTATION_OVERLAP: 86_400 };

  it("state the configured value, not the setting's ceiling", async () => {
    const bounded = configBounded(document);
    expect(bounded.map((node) => node["x-config-max"]).sort()).toEqual(Object.keys(defaults).sort());
    for (const node of bounded) expect(node.maximum, String(node["x-config-max"])).toBe(defaults[node["x-config-max"] as string]);
  });

  it("follow the configuration, and the server enforces the same number", async () => {
    const response = await callApp(`${BASE}/openapi.json`, undefined, { env: { FILE_LINK_TTL: "600", API_KEY_MAX_TTL: "7200", API_KEY_DEFAULT_TTL: "3600", DOCS_PUBLIC: "true" } });
    const configured = configBounded(await response.json());
    const maxOf = (setting: string) => configured.find((node) => node["x-config-max"] === setting)?.maximum;
    expect([maxOf("FILE_LINK_TTL"), maxOf("API_KEY_MAX_TTL")]).toEqual([600, 7200]);
    const over = await call(admin.accessToken, "POST", "/api-keys", { name: "x", scopes: ["profile:read"], expires_in: defaults.API_KEY_MAX_TTL! + 1 });
    expect((await expectProblem(over, 422, "validation_failed")).errors).toEqual([{ path: "body.expires_in", message: "must be at most 31536000 (API_KEY_MAX_TTL)" }]);
    expect((await call(admin.accessToken, "POST", "/api-keys", { name: "x", scopes: ["profile:read"], expires_in: defaults.API_KEY_MAX_TTL })).status).toBe(201);
  });
});

describe("audit action names", () => {
  it("are an enum in the document, equal to the catalog, and an unknown one is a 422", async () => {
    expect((document.components.schemas.AuditAction as { enum: string[] }).enum).toEqual(AUDIT_ACTION_NAMES);
    await expectProblem(await authedFetch("/audit-logs?action=user.exploded", admin.accessToken), 422, "validation_failed");
    expect((await authedFetch("/audit-logs?action=user.login_failed", admin.accessToken)).status).toBe(200);
  });

  it("are each documented in docs/rbac.md", () => {
    const documented = [...rbacDoc.matchAll(/^\| `([a-z_]+\.[a-z_]+)` \|/gm)].map((match) => match[1]);
    expect(documented).toEqual(AUDIT_ACTION_NAMES);
  });
});
