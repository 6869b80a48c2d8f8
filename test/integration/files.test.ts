import { beforeAll, describe, expect, it } from "vitest";
import { authedFetch, createUser, type TestUser } from "../helpers/auth";
import { expectProblem } from "../helpers/app-env";
import { env, SELF } from "cloudflare:test";
import { API, randomIp } from "../helpers/auth";
import { bytesOf, EXE, filePart, GIF, HTML, PDF, PNG, rawMultipart, TEXT, upload } from "./files-fixtures";

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

  it("answers 403 to a caller without files:write", async () => {
    const guest = await createUser({ roles: ["guest"] });
    const body = await expectProblem(await upload(guest.accessToken, PNG, { name: "a.png" }), 403, "forbidden");
    expect(body.missing_permissions).toEqual(["files:write"]);
  });
});

const encode = (text: string) => new TextEncoder().encode(text);
const ZIP = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00]);
const SVG = encode('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>');

describe("content type decisions", () => {
  it.each([
    ["text named .png", TEXT, "notes.png", undefined],
    ["a PNG named .txt", PNG, "photo.txt", undefined],
    ["a PNG declared as text/plain", PNG, "photo.png", "text/plain"],
    ["a PNG declared as image/jpeg", PNG, "photo.png", "image/jpeg"],
    ["a PNG named .jpg", PNG, "photo.jpg", undefined],
    ["a zip named .png", ZIP, "archive.png", undefined],
    ["a zip named .zip", ZIP, "archive.zip", undefined],
    ["SVG named .svg", SVG, "icon.svg", "image/svg+xml"],
    ["SVG named .txt", SVG, "icon.txt", "text/plain"],
    ["HTML named .txt", HTML, "page.txt", undefined],
    ["HTML named .html", HTML, "page.html", "text/html"],
    ["a shell script named .txt", encode("#!/bin/sh\nrm -rf /\n"), "run.txt", undefined],
    ["text with a NUL byte", encode("abc\u0000def"), "nul.txt", undefined],
    ["Latin-1 text (not UTF-8)", new Uint8Array([0x47, 0x72, 0xfc, 0xdf, 0x65]), "latin1.txt", undefined],
    ["invalid JSON named .json", encode("{not json"), "data.json", undefined],
    ["a name without an extension", PNG, "photo", undefined],
  ] as const)("refuses %s with 415", async (_label, bytes, name, type) => {
    await expectProblem(await upload(user.accessToken, bytes, { name, ...(type ? { type } : {}) }), 415, "unsupported_media_type");
  });

  it.each([
    ["readme.md", "text/markdown", "text/markdown", encode("# Title\n\nSome *markdown*.\n")],
    ["table.csv", "application/vnd.ms-excel", "text/csv", encode("a,b\n1,2\n")],
    ["data.json", "application/json", "application/json", encode('{"ok":true}')],
    ["README.TXT", "", "text/plain", encode("upper-case extension")],
    ["report.pdf", "application/octet-stream", "application/pdf", PDF],
  ] as const)("accepts %s (declared %j) as %s", async (name, declared, stored, bytes) => {
    const response = await upload(user.accessToken, bytes, { name, type: declared });
    expect(response.status, await response.clone().text()).toBe(201);
    expect(((await response.json()) as FileJson).content_type).toBe(stored);
  });
});

async function postRaw(parts: Parameters<typeof rawMultipart>[0], token = user.accessToken): Promise<Response> {
  const { body, contentType } = rawMultipart(parts);
  return SELF.fetch(`${API}/files`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": contentType, "CF-Connecting-IP": randomIp() },
    body,
  });
}

describe("file names", () => {
  it.each([
    ["a Windows path (escaped backslashes, as browsers and urllib3 send them)", "C:\\\\Users\\\\x.txt"],
    ["an absolute path", "/etc/passwd.txt"],
    ["a fullwidth solidus", "etc\uff0fpasswd.txt"],
    ["a control character", "a\u0001b.txt"],
    ["DEL", "a\u007fb.txt"],
    ["a right-to-left override", "invoice\u202Etxt.exe"],
    ["only dots", ".."],
    ["a backslash traversal the parser unescapes to ....", "..\\..\\boot.ini.txt"],
    ["a leading ..", "..secret.txt"],
  ])("refuses %s with 422", async (_label, name) => {
    const response = await postRaw([{ headers: filePart(name, "text/plain"), body: TEXT }]);
    await expectProblem(response, 422, "validation_failed");
  });

  it("strips a leading dot and keeps the name only as metadata", async () => {
    const response = await upload(user.accessToken, TEXT, { name: ".hidden notes.txt" });
    expect(response.status).toBe(201);
    const file = (await response.json()) as FileJson;
    expect(file.name).toBe("hidden notes.txt");
    const row = await env.DB.prepare("select r2_key from files where id = ?").bind(file.id).first<{ r2_key: string }>();
    expect(row!.r2_key).toBe(`files/${user.id}/${file.id}`);
  });

  it("normalizes to NFC", async () => {
    const response = await upload(user.accessToken, TEXT, { name: "cafe\u0301.txt" });
    expect(((await response.json()) as FileJson).name).toBe("caf\u00e9.txt");
  });

  it("shortens a name over 255 bytes but keeps its extension", async () => {
    const response = await upload(user.accessToken, TEXT, { name: `${"ä".repeat(200)}.txt` });
    expect(response.status).toBe(201);
    const { name } = (await response.json()) as FileJson;
    expect(new TextEncoder().encode(name).byteLength).toBeLessThanOrEqual(255);
    expect(name).toMatch(/^ä+\.txt$/);
  });
});

describe("the multipart body", () => {
  it("needs a file part", async () => {
    const body = await expectProblem(await postRaw([{ headers: 'Content-Disposition: form-data; name="category"', body: "docs" }]), 422, "validation_failed");
    expect(body.errors?.[0]?.path).toBe("form.file");
  });

  it("refuses a file field sent as plain text (no filename)", async () => {
    await expectProblem(await postRaw([{ headers: 'Content-Disposition: form-data; name="file"', body: "hello" }]), 422, "validation_failed");
  });

  it("refuses two file parts", async () => {
    const part = { headers: filePart("a.txt", "text/plain"), body: TEXT };
    await expectProblem(await postRaw([part, part]), 422, "validation_failed");
  });

  it("refuses an invalid category", async () => {
    await expectProblem(await upload(user.accessToken, TEXT, { name: "a.txt", category: "../etc" }), 422, "validation_failed");
  });

  it("refuses a JSON body with 415", async () => {
    const response = await authedFetch("/files", user.accessToken, { method: "POST", body: JSON.stringify({ file: "x" }) });
    await expectProblem(response, 415, "unsupported_media_type");
    expect(response.headers.get("Accept-Post")).toBe("multipart/form-data");
  });
});
