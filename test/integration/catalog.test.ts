import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PERMISSIONS, SYSTEM_ROLES } from "../../src/lib/permissions";

// The seed migration is generated from the catalog in code; this fails when they drift apart
// (run `npm run db:seed-migration -- --name <change>` after changing src/lib/permissions.ts).
describe("seeded permission catalog", () => {
  it("has every catalog permission as a system permission, and nothing else", async () => {
    const { results } = await env.DB.prepare("select name, is_system from permissions order by name").all<{ name: string; is_system: number }>();
    expect(results.map((row) => row.name)).toEqual(Object.keys(PERMISSIONS).sort());
    expect(results.every((row) => row.is_system === 1)).toBe(true);
  });

  it("has every system role with exactly its catalog permissions", async () => {
    for (const [role, { permissions }] of Object.entries(SYSTEM_ROLES)) {
      const { results } = await env.DB.prepare(
        "select p.name from roles r join role_permissions rp on rp.role_id = r.id join permissions p on p.id = rp.permission_id where r.name = ? and r.is_system = 1 order by p.name",
      )
        .bind(role)
        .all<{ name: string }>();
      expect(results.map((row) => row.name), role).toEqual([...permissions].sort());
    }
  });
});
