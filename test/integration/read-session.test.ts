import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createUser } from "../helpers/auth";

const BASE = "http://localhost/api/v1";

function me(token: string, headers: Record<string, string> = {}, init: RequestInit = {}): Promise<Response> {
  return SELF.fetch(`${BASE}/users/me`, { ...init, headers: { Authorization: `Bearer ${token}`, ...headers, ...(init.headers as Record<string, string> | undefined) } });
}

describe("D1 read replication for the principal read", () => {
  it("answers an authenticated read with a bookmark, and accepts it back", async () => {
    const user = await createUser();
    const first = await me(user.accessToken);
    expect(first.status).toBe(200);
    const bookmark = first.headers.get("X-D1-Bookmark");
    expect(bookmark).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    const again = await me(user.accessToken, { "X-D1-Bookmark": bookmark! });
    expect(again.status).toBe(200);
    expect(again.headers.get("X-D1-Bookmark")).toBeTruthy();
  });

  it("reads its own write: the bookmark a write answers sees the change", async () => {
    const user = await createUser();
    const patched = await me(user.accessToken, { "Content-Type": "application/json" }, { method: "PATCH", body: JSON.stringify({ first_name: "Renamed" }) });
    expect(patched.status).toBe(200);
    const bookmark = patched.headers.get("X-D1-Bookmark");
    expect(bookmark).toBeTruthy();
    const read = await me(user.accessToken, { "X-D1-Bookmark": bookmark! });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { first_name: string }).first_name).toBe("Renamed");
  });

  it("ignores a malformed bookmark instead of failing the request", async () => {
    const user = await createUser();
    for (const junk of ["", "not a bookmark!", "x".repeat(500), "../../etc"]) {
      const response = await me(user.accessToken, { "X-D1-Bookmark": junk });
      expect(response.status, junk).toBe(200);
    }
  });

  it("answers the profile from the principal read alone, with the same fields as before", async () => {
    const user = await createUser();
    const body = (await (await me(user.accessToken)).json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(
      ["created_at", "email", "email_verified", "first_name", "id", "is_active", "is_approved", "last_name", "middle_name", "permissions", "role_title", "roles"].sort(),
    );
    expect(body.is_active).toBe(true);
    expect(body.permissions).toEqual([...(body.permissions as string[])].sort());
  });
});
