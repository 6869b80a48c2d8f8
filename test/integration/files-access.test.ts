import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { expectProblem } from "../helpers/app-env";
import { authedFetch, createUser, randomIp, type TestUser } from "../helpers/auth";
import { PNG, TEXT, upload } from "./files-fixtures";

interface FileJson {
  id: string;
  name: string;
  owner_id: string;
  category: string | null;
}
interface FileList {
  items: FileJson[];
  next_cursor: string | null;
}

let alice: TestUser;
let bob: TestUser;
let admin: TestUser;
let guest: TestUser;

async function uploadAs(user: TestUser, name: string, category?: string): Promise<FileJson> {
  const response = await upload(user.accessToken, name.endsWith(".png") ? PNG : TEXT, { name, ...(category ? { category } : {}) });
  expect(response.status, await response.clone().text()).toBe(201);
  return response.json();
}

beforeAll(async () => {
  [alice, bob, admin, guest] = await Promise.all([createUser(), createUser(), createUser({ roles: ["admin"] }), createUser({ roles: ["guest"] })]);
});

describe("GET /api/v1/files", () => {
  it("lists only the caller's files, newest first, page by page", async () => {
    const owner = await createUser();
    const uploaded = [];
    for (const name of ["one.txt", "two.txt", "three.txt"]) uploaded.push(await uploadAs(owner, name));
    await uploadAs(bob, "bobs.txt");

    const first = (await (await authedFetch("/files?limit=2", owner.accessToken)).json()) as FileList;
    expect(first.items.map((file) => file.name)).toEqual(["three.txt", "two.txt"]);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = (await (await authedFetch(`/files?limit=2&cursor=${first.next_cursor}`, owner.accessToken)).json()) as FileList;
    expect(second.items.map((file) => file.name)).toEqual(["one.txt"]);
    expect(second.next_cursor).toBeNull();
    expect([...first.items, ...second.items].every((file) => file.owner_id === owner.id)).toBe(true);
  });

  it("filters by category", async () => {
    const owner = await createUser();
    await uploadAs(owner, "a.txt", "invoices");
    await uploadAs(owner, "b.txt", "photos");
    const response = await authedFetch("/files?category=invoices", owner.accessToken);
    expect(((await response.json()) as FileList).items.map((file) => file.name)).toEqual(["a.txt"]);
  });

  it("refuses another owner's listing without files:read_any, allows it with", async () => {
    const file = await uploadAs(alice, "alice-list.txt");
    const denied = await expectProblem(await authedFetch(`/files?owner=${alice.id}`, bob.accessToken), 403, "forbidden");
    expect(denied.missing_permissions).toEqual(["files:read_any"]);
    const allowed = (await (await authedFetch(`/files?owner=${alice.id}&limit=100`, admin.accessToken)).json()) as FileList;
    expect(allowed.items.map((item) => item.id)).toContain(file.id);
  });

  it("rejects a cursor it did not issue", async () => {
    await expectProblem(await authedFetch("/files?cursor=not-a-cursor", alice.accessToken), 422, "validation_failed");
  });

  it("answers 401 without a token", async () => {
    await expectProblem(await SELF.fetch("http://localhost/api/v1/files", { headers: { "CF-Connecting-IP": randomIp() } }), 401, "unauthorized");
  });
});

describe("another user's file", () => {
  let file: FileJson;
  beforeAll(async () => {
    file = await uploadAs(alice, "private.png");
  });

  it.each([
    ["metadata", "GET", ""],
    ["content", "GET", "/content"],
    ["a link", "POST", "/link"],
    ["deletion", "DELETE", ""],
  ])("answers 404 for %s", async (_label, method, suffix) => {
    await expectProblem(await authedFetch(`/files/${file.id}${suffix}`, bob.accessToken, { method }), 404, "not_found");
    expect(await env.DB.prepare("select count(*) as n from files where id = ?").bind(file.id).first("n")).toBe(1);
  });

  it("is readable with files:read_any", async () => {
    const response = await authedFetch(`/files/${file.id}`, admin.accessToken);
    expect(response.status).toBe(200);
    expect(((await response.json()) as FileJson).owner_id).toBe(alice.id);
    const content = await authedFetch(`/files/${file.id}/content`, admin.accessToken);
    expect(new Uint8Array(await content.arrayBuffer())).toEqual(PNG);
  });

  it("is deletable with files:delete_any, and the event names the owner", async () => {
    const target = await uploadAs(alice, "moderated.txt");
    expect((await authedFetch(`/files/${target.id}`, admin.accessToken, { method: "DELETE" })).status).toBe(204);
    const audit = await env.DB.prepare("select actor_user_id, changes from audit_logs where action = 'file.deleted' and target_id = ?")
      .bind(target.id)
      .first<{ actor_user_id: string; changes: string }>();
    expect(audit?.actor_user_id).toBe(admin.id);
    expect(JSON.parse(audit!.changes)).toMatchObject({ owner_id: alice.id, name: "moderated.txt" });
  });
});

describe("GET /api/v1/files/{id}", () => {
  it("answers 404 for an unknown id and 422 for a malformed one", async () => {
    await expectProblem(await authedFetch("/files/0193a6f0-5b1e-7c3a-9f4d-2b8e6a1c0d47", alice.accessToken), 404, "not_found");
    await expectProblem(await authedFetch("/files/..%2F..%2Fetc%2Fpasswd", alice.accessToken), 422, "validation_failed");
  });

  it("answers 401 without a token", async () => {
    const file = await uploadAs(alice, "meta.txt");
    await expectProblem(await SELF.fetch(`http://localhost/api/v1/files/${file.id}`, { headers: { "CF-Connecting-IP": randomIp() } }), 401, "unauthorized");
  });
});

describe("DELETE /api/v1/files/{id}", () => {
  it("removes the row and the object; a second delete is 404", async () => {
    const file = await uploadAs(alice, "gone.txt");
    const key = `files/${alice.id}/${file.id}`;
    expect(await env.FILES.head(key)).not.toBeNull();
    expect((await authedFetch(`/files/${file.id}`, alice.accessToken, { method: "DELETE" })).status).toBe(204);
    expect(await env.DB.prepare("select count(*) as n from files where id = ?").bind(file.id).first("n")).toBe(0);
    expect(await env.FILES.head(key)).toBeNull();
    await expectProblem(await authedFetch(`/files/${file.id}`, alice.accessToken, { method: "DELETE" }), 404, "not_found");
    await expectProblem(await authedFetch(`/files/${file.id}/content`, alice.accessToken), 404, "not_found");
  });

  it("answers 403 to a guest (files:read only) and 401 without a token", async () => {
    const file = await uploadAs(alice, "keep.txt");
    await expectProblem(await authedFetch(`/files/${file.id}`, guest.accessToken, { method: "DELETE" }), 403, "forbidden");
    const anonymous = await SELF.fetch(`http://localhost/api/v1/files/${file.id}`, { method: "DELETE", headers: { "CF-Connecting-IP": randomIp() } });
    await expectProblem(anonymous, 401, "unauthorized");
  });
});
