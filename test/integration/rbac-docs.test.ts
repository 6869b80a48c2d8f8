import { beforeAll, describe, expect, it } from "vitest";
import { BASE, createUser, type TestUser } from "../helpers/auth";
import { callApp, expectProblem } from "../helpers/app-env";

/** DOCS_PUBLIC=false: the API document and Swagger UI need `docs:read`. */
const PRIVATE_DOCS = { env: { DOCS_PUBLIC: "false" } };
const withToken = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });

let guest: TestUser;
let manager: TestUser;

beforeAll(async () => {
  guest = await createUser({ roles: ["guest"] });
  manager = await createUser({ roles: ["manager"] });
});

describe("private API documentation", () => {
  it("answers 401 with WWW-Authenticate without a token", async () => {
    for (const path of ["/openapi.json", "/docs"]) {
      const response = await callApp(`${BASE}${path}`, undefined, PRIVATE_DOCS);
      await expectProblem(response.clone(), 401, "unauthorized");
      expect(response.headers.get("WWW-Authenticate"), path).toBe('Bearer error="invalid_token"');
    }
  });

  it("answers 403 naming docs:read to a caller without it", async () => {
    for (const path of ["/openapi.json", "/docs"]) {
      const problem = await expectProblem(await callApp(`${BASE}${path}`, withToken(guest.accessToken), PRIVATE_DOCS), 403, "forbidden");
      expect(problem.missing_permissions).toEqual(["docs:read"]);
    }
  });

  it("serves both to a holder of docs:read", async () => {
    const document = await callApp(`${BASE}/openapi.json`, withToken(manager.accessToken), PRIVATE_DOCS);
    expect(document.status).toBe(200);
    expect(((await document.json()) as { openapi: string }).openapi).toBe("3.1.0");
    const page = await callApp(`${BASE}/docs`, withToken(manager.accessToken), PRIVATE_DOCS);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("swagger");
  });

  it("stays public when DOCS_PUBLIC=true", async () => {
    expect((await callApp(`${BASE}/openapi.json`, undefined, { env: { DOCS_PUBLIC: "true" } })).status).toBe(200);
  });
});
