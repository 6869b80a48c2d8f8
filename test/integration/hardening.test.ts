import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { createDb, type Database } from "../../src/db/client";
import { describeError } from "../../src/lib/logger";
import { timingPadding } from "../../src/lib/password-timing";
import { register } from "../../src/modules/auth/auth.service";
import { createUser, postJson, randomIp, STRONG_PASSWORD, uniqueEmail, waitForMail } from "../helpers/auth";
import { call } from "../helpers/rbac";
import { serviceDeps } from "../helpers/services";

/** A database that counts every query started through it. */
function countingDb(): { db: Database; calls: () => number } {
  const db = createDb(env.DB);
  let calls = 0;
  const counted = new Proxy(db, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value === "function" && ["select", "insert", "update", "delete", "batch", "run", "get", "all"].includes(String(property))) {
        return (...args: unknown[]) => {
          calls += 1;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return value;
    },
  });
  return { db: counted, calls: () => calls };
}

describe("registration does the same work for taken and new addresses before answering (item 5)", () => {
  it("no D1 query runs before the response; the lookups and writes run after it", async () => {
    const taken = await createUser();
    for (const email of [taken.email, uniqueEmail("fresh")]) {
      const { db, calls } = countingDb();
      const deferred: Array<() => Promise<void>> = [];
      await register({ ...serviceDeps(db), defer: (task) => deferred.push(task) }, { email, password: STRONG_PASSWORD, first_name: "T", last_name: "T" });
      expect(calls(), email).toBe(0);
      expect(deferred).toHaveLength(1);
      await deferred[0]!();
      expect(calls()).toBeGreaterThan(0);
    }
  });

  it("a stored hash cheaper than the current parameters is topped up to their cost; equal ones are not", () => {
    const current = { memoryKib: 19456, iterations: 2, parallelism: 1 };
    expect(timingPadding("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", current)).toBeNull();
    expect(timingPadding("$argon2id$v=19$m=19456,t=1,p=1$c2FsdA$aGFzaA", current)).toEqual({ ...current, iterations: 1 });
    expect(timingPadding("$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA", current)).toEqual(current);
    expect(timingPadding("not a hash", current)).toEqual(current);
  });
});

describe("registration cannot mail-bomb an address (item 6)", () => {
  it("registrations of one address from many IPs are limited per address: at most 5 mails an hour", async () => {
    const email = uniqueEmail("bombed");
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 7; attempt++) {
      statuses.push((await postJson("/auth/register", { email, password: STRONG_PASSWORD, first_name: "B", last_name: "B" }, { ip: randomIp() })).status);
    }
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 429]);
    await waitForMail(email, "attempt", 3);
    const mails = await env.DB.prepare("select count(*) as n from captured_mails where to_address = ?").bind(email).first<{ n: number }>();
    expect(mails!.n).toBeLessThanOrEqual(5);
  });
});

describe("password change cannot burn unlimited argon2 CPU (item 4)", () => {
  it("an invalid new password is refused before the current one is hashed, and every hashing attempt counts", async () => {
    const user = await createUser();
    // Right current password, policy-breaking new one: 422, not counted.
    for (let attempt = 0; attempt < 3; attempt++) {
      const refused = await call(user.accessToken, "POST", "/auth/password/change", { current_password: "not even checked", new_password: "short" });
      expect(refused.status).toBe(422);
    }
    let current = user.password;
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 11; attempt++) {
      const next = `fresh passphrase number ${attempt}`;
      // Alternating wrong and right current passwords: successes do not refund the hashing budget.
      const wrong = attempt % 2 === 0;
      const response = await call(user.accessToken, "POST", "/auth/password/change", { current_password: wrong ? "wrong current one" : current, new_password: next });
      statuses.push(response.status);
      if (response.status === 204) current = next;
    }
    expect(statuses.slice(0, 10)).toEqual([403, 204, 403, 204, 403, 204, 403, 204, 403, 204]);
    expect(statuses[10]).toBe(429);
  }, 60_000);
});

describe("work before any limit (item 7) and junk bearer tokens (item 8)", () => {
  it("/health/ready probes once per isolate for 5 s, however many requests arrive", async () => {
    let probes = 0;
    const bindings = {
      ...env,
      DB: new Proxy(env.DB, {
        get(target, property) {
          if (property === "prepare") probes += 1;
          const value = Reflect.get(target, property) as unknown;
          return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      }),
    };
    const app = createApp();
    for (let index = 0; index < 5; index++) {
      const ctx = createExecutionContext();
      const response = await app.fetch(new Request("http://localhost/health/ready"), bindings, ctx);
      await waitOnExecutionContext(ctx);
      expect(response.status).toBe(200);
    }
    expect(probes).toBe(1);
  });

  it("junk bearer tokens on a route with its own limiter still meet the anonymous per-IP limit", async () => {
    const ip = randomIp();
    const statuses = new Set<number>();
    for (let batch = 0; batch < 13; batch++) {
      const responses = await Promise.all(
        Array.from({ length: 25 }, () => postJson("/auth/password/change", { current_password: "x", new_password: "y" }, { ip, token: "junk.junk.junk" })),
      );
      for (const response of responses) statuses.add(response.status);
    }
    expect(statuses.has(429)).toBe(true);
  }, 120_000);
});

describe("logged errors carry no bound values (item 10)", () => {
  it("redacts the params of a failed query from every field", () => {
    const error = new Error("Failed query: select * from users where email = ?\nparams: victim@example.com", {
      cause: new Error("D1_ERROR: params: victim@example.com"),
    });
    const described = JSON.stringify(describeError(error));
    expect(described).not.toContain("victim@example.com");
    expect(described).toContain("select * from users where email = ?");
  });
});
