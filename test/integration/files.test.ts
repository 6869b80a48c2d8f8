import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { authedFetch, createUser, type TestUser } from "../helpers/auth";
import { expectProblem } from "../helpers/app-env";
import { bytesOf, EXE, GIF, HTML, PDF, PNG, TEXT, upload } from "./files-fixtures";

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

interface FileJson {
  id: string;
  name: string;
  content_type: string;
  size: number;
  sha256: string;
  category: string | null;
  owner_id: string;
  created_at: string;
}

let user: TestUser;

beforeAll(async () => {
  user = await createUser();
});

describe("POST /api/v1/files", () => {
  it.each([
    ["photo.png", PNG, "image/png", "image/png"],
    ["report.pdf", PDF, "application/pdf", "application/pdf"],
    ["notes.txt", TEXT, "text/plain", "text/plain; charset=utf-8"],
    ["tiny.gif", GIF, "image/gif", "image/gif"],
  ] as const)("stores %s and returns it byte for byte", async (name, bytes, type, servedType) => {
    const response = await upload(user.accessToken, bytes, { name, type, category: "docs" });
    expect(response.status, await response.clone().text()).toBe(201);
    const file = (await response.json()) as FileJson;
    expect(file).toMatchObject({ name, content_type: type, size: bytes.byteLength, sha256: await sha256Hex(bytes), category: "docs", owner_id: user.id });
    expect(response.headers.get("Location")).toBe(`/api/v1/files/${file.id}`);
    expect(Date.parse(file.created_at)).not.toBeNaN();

    const row = await env.DB.prepare("select r2_key, size from files where id = ?").bind(file.id).first<{ r2_key: string; size: number }>();
    expect(row).toEqual({ r2_key: `files/${user.id}/${file.id}`, size: bytes.byteLength });
    const object = await env.FILES.get(row!.r2_key);
    expect(await bytesOf(new Response(object!.body))).toEqual(bytes);

    const content = await authedFetch(`/files/${file.id}/content`, user.accessToken);
    expect(content.status).toBe(200);
    expect(content.headers.get("Content-Type")).toBe(servedType);
    expect(await bytesOf(content)).toEqual(bytes);

    const audit = await env.DB.prepare("select actor_user_id, changes from audit_logs where action = 'file.uploaded' and target_id = ?").bind(file.id).first<{ actor_user_id: string; changes: string }>();
    expect(audit?.actor_user_id).toBe(user.id);
    expect(JSON.parse(audit!.changes)).toMatchObject({ name, size: bytes.byteLength, content_type: type });
  });

  it("answers 401 without a token", async () => {
    await expectProblem(await upload(undefined, PNG, { name: "a.png" }), 401, "unauthorized");
  });

  it("refuses an executable named .png with 415", async () => {
    const body = await expectProblem(await upload(user.accessToken, EXE, { name: "cat.png", type: "image/png" }), 415, "unsupported_media_type");
    expect(body.detected_type).toBe("application/x-msdownload");
  });

  it("refuses HTML named .png with 415", async () => {
    await expectProblem(await upload(user.accessToken, HTML, { name: "cat.png", type: "image/png" }), 415, "unsupported_media_type");
  });

  it("refuses a double extension ending in .html with 415", async () => {
    await expectProblem(await upload(user.accessToken, PNG, { name: "x.png.html" }), 415, "unsupported_media_type");
  });

  it("refuses an empty file with 422", async () => {
    await expectProblem(await upload(user.accessToken, new Uint8Array(0), { name: "empty.txt" }), 422, "validation_failed");
  });

  it("refuses a traversal name with 422", async () => {
    await expectProblem(await upload(user.accessToken, TEXT, { name: "../../etc/passwd.txt" }), 422, "validation_failed");
  });
});
