import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import type { Config } from "../../src/config";
import { parseConfig } from "../../src/env";
import { newId } from "../../src/lib/ids";
import { createLogger } from "../../src/lib/logger";
import { ProblemError } from "../../src/lib/problem";
import worker from "../../src/index";
import { deleteFile, uploadFile, type FilesDeps } from "../../src/modules/files/files.service";
import { deleteOwnerObjects, objectKey, ownerPrefix } from "../../src/modules/files/files.storage";
import { ORPHAN_MIN_AGE_MS, sweepOrphanedObjects } from "../../src/modules/files/files.sweep";
import { PNG, TEXT } from "../integration/files-fixtures";

const HOUR_LATER = () => Date.now() + ORPHAN_MIN_AGE_MS + 60_000;

function config(overrides: Record<string, string> = {}): Config {
  const result = parseConfig({ ...env, ...overrides });
  if (!result.ok) throw new Error(result.problems.join("; "));
  return result.config;
}

/** A user row to own files (the FK needs one); no login is involved at this layer. */
async function newOwner(): Promise<string> {
  const id = newId();
  const now = Date.now();
  await env.DB.prepare(
    "insert into users (id, email, password_hash, first_name, last_name, password_changed_at, created_at, updated_at) values (?, ?, 'x', 'T', 'U', ?, ?, ?)",
  )
    .bind(id, `${id}@example.com`, now, now, now)
    .run();
  return id;
}

function deps(overrides: Partial<FilesDeps> = {}): FilesDeps {
  return {
    db: createDb(env.DB),
    bucket: env.FILES,
    config: config(),
    actor: { userId: null, requestId: "test" },
    logger: createLogger("error"),
    now: Date.now(),
    ...overrides,
  };
}

const pngFile = () => new File([PNG], "photo.png", { type: "image/png" });
const owner = { permissions: new Set(["files:read", "files:write"]) };

async function objectKeys(ownerId: string): Promise<string[]> {
  return (await env.FILES.list({ prefix: ownerPrefix(ownerId) })).objects.map((object) => object.key);
}

async function rowCount(ownerId: string): Promise<number> {
  return (await env.DB.prepare("select count(*) as n from files where owner_id = ?").bind(ownerId).first<{ n: number }>())!.n;
}

/** A D1 binding whose batches (every write of the upload) fail, as when D1 is unreachable. */
const failingBatchD1 = new Proxy(env.DB, {
  get(target, property) {
    if (property === "batch") return () => Promise.reject(new Error("D1_ERROR: simulated write failure"));
    const value = Reflect.get(target, property);
    return typeof value === "function" ? value.bind(target) : value;
  },
});

/** An R2 binding with one method replaced. */
function bucketWith(method: "put" | "delete", replacement: (...args: never[]) => unknown): R2Bucket {
  return new Proxy(env.FILES, {
    get(target, property) {
      if (property === method) return replacement;
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("upload consistency", () => {
  it("removes the stored object when the D1 write fails", async () => {
    const ownerId = await newOwner();
    await expect(uploadFile(deps({ db: createDb(failingBatchD1) }), ownerId, { file: pngFile() })).rejects.toThrow(/simulated write failure/);
    expect(await objectKeys(ownerId)).toEqual([]);
    expect(await rowCount(ownerId)).toBe(0);
  });

  it("writes no row (and no audit event) when the R2 write fails", async () => {
    const ownerId = await newOwner();
    const bucket = bucketWith("put", () => Promise.reject(new Error("R2 unavailable")));
    await expect(uploadFile(deps({ bucket, actor: { userId: ownerId } }), ownerId, { file: pngFile() })).rejects.toThrow(/R2 unavailable/);
    expect(await rowCount(ownerId)).toBe(0);
    const audit = await env.DB.prepare("select count(*) as n from audit_logs where action = 'file.uploaded' and actor_user_id = ?").bind(ownerId).first<{ n: number }>();
    expect(audit!.n).toBe(0);
  });

  it("refuses at the insert when a parallel upload used the quota after the early check", async () => {
    const ownerId = await newOwner();
    // The competing upload lands between this upload's quota check and its insert.
    const bucket = bucketWith("put", async (key: string, value: Uint8Array, options: R2PutOptions) => {
      await env.DB.prepare("insert into files (id, owner_id, name, content_type, size, sha256, category, r2_key, created_at) values (?, ?, 'other.txt', 'text/plain', 990, ?, null, ?, ?)")
        .bind(newId(), ownerId, "0".repeat(64), `files/${ownerId}/competing`, Date.now())
        .run();
      return env.FILES.put(key, value, options);
    });
    const error = await uploadFile(deps({ bucket, config: config({ FILES_QUOTA_BYTES: "1000" }) }), ownerId, { file: pngFile() }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProblemError);
    expect((error as ProblemError).status).toBe(413);
    expect((error as ProblemError).init.extensions).toMatchObject({ reason: "quota_exceeded", quota_bytes: 1000, used_bytes: 990, requested_bytes: PNG.byteLength });
    expect(await rowCount(ownerId)).toBe(1);
    expect(await objectKeys(ownerId)).toEqual([]);
  });
});

describe("delete consistency", () => {
  it("removes the row even if R2 fails; the sweep removes the object later", async () => {
    const ownerId = await newOwner();
    const file = await uploadFile(deps(), ownerId, { file: new File([TEXT], "a.txt") });
    const bucket = bucketWith("delete", () => Promise.reject(new Error("R2 unavailable")));
    await deleteFile(deps({ bucket }), { userId: ownerId, ...owner }, file.id);
    expect(await rowCount(ownerId)).toBe(0);
    expect(await objectKeys(ownerId)).toEqual([objectKey(ownerId, file.id)]);

    const result = await sweepOrphanedObjects(createDb(env.DB), env.FILES, { now: HOUR_LATER(), prefix: ownerPrefix(ownerId) });
    expect(result).toMatchObject({ deleted: 1, complete: true });
    expect(await objectKeys(ownerId)).toEqual([]);
  });
});

describe("sweep", () => {
  it("deletes only objects older than an hour that have no row", async () => {
    const ownerId = await newOwner();
    const kept = await uploadFile(deps(), ownerId, { file: pngFile() });
    const orphan = objectKey(ownerId, newId());
    await env.FILES.put(orphan, "left behind");
    const db = createDb(env.DB);

    // Fresh orphans may belong to an upload still in flight: kept.
    expect(await sweepOrphanedObjects(db, env.FILES, { now: Date.now(), prefix: ownerPrefix(ownerId) })).toMatchObject({ scanned: 2, deleted: 0 });
    expect(await sweepOrphanedObjects(db, env.FILES, { now: HOUR_LATER(), prefix: ownerPrefix(ownerId) })).toMatchObject({ scanned: 2, deleted: 1 });
    expect(await objectKeys(ownerId)).toEqual([objectKey(ownerId, kept.id)]);
  });

  it("resumes where the page budget stopped it", async () => {
    const ownerId = await newOwner();
    const keys = Array.from({ length: 5 }, () => objectKey(ownerId, newId()));
    for (const key of keys) await env.FILES.put(key, "x");
    const db = createDb(env.DB);
    const options = { now: HOUR_LATER(), prefix: ownerPrefix(ownerId), pageSize: 2, maxPages: 1 };

    expect(await sweepOrphanedObjects(db, env.FILES, options)).toEqual({ scanned: 2, deleted: 2, complete: false });
    expect(await sweepOrphanedObjects(db, env.FILES, options)).toEqual({ scanned: 2, deleted: 2, complete: false });
    expect(await sweepOrphanedObjects(db, env.FILES, options)).toEqual({ scanned: 1, deleted: 1, complete: true });
    expect(await objectKeys(ownerId)).toEqual([]);
  });

  it("runs from the worker's scheduled handler", async () => {
    const ownerId = await newOwner();
    const kept = await uploadFile(deps(), ownerId, { file: pngFile() });
    const orphan = objectKey(ownerId, newId());
    await env.FILES.put(orphan, "left behind");

    const ctx = createExecutionContext();
    worker.scheduled(createScheduledController({ scheduledTime: HOUR_LATER(), cron: "*/30 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);

    expect(await objectKeys(ownerId)).toEqual([objectKey(ownerId, kept.id)]);
  });
});

describe("deleteOwnerObjects", () => {
  it("deletes every object of one owner and nobody else's", async () => {
    const ownerId = await newOwner();
    const otherId = await newOwner();
    for (let index = 0; index < 3; index++) await env.FILES.put(objectKey(ownerId, newId()), "x");
    await env.FILES.put(objectKey(otherId, newId()), "y");

    expect(await deleteOwnerObjects(env.FILES, ownerId)).toBe(3);
    expect(await objectKeys(ownerId)).toEqual([]);
    expect(await objectKeys(otherId)).toHaveLength(1);
  });
});
