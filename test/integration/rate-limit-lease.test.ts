import { describe, expect, it } from "vitest";
import { countingLimiter, freshIp, probeApp, send } from "./rate-limit-harness";

/** api_user at `limit`; the probe's requests are anonymous too, so api_anonymous is set out of the way. */
const limitTo = (policy: string, limit: number, window: number) => ({
  RATE_LIMIT_OVERRIDES: JSON.stringify({ [policy]: { limit, window }, api_anonymous: { limit: 1_000_000, window: 60 } }),
});

/** One client address per user, so its api_anonymous lease is one too. */
const addresses = new Map<string, string>();

function asUser(user: string): Request {
  if (!addresses.has(user)) addresses.set(user, freshIp());
  return new Request("http://localhost/api/test/user", { headers: { "CF-Connecting-IP": addresses.get(user)!, "X-Test-User": user } });
}

describe("approximate policies lease units instead of calling the limiter per request", () => {
  const app = probeApp();

  it("makes one limiter call per lease (a twentieth of the limit), not one per request", async () => {
    const user = `user-${crypto.randomUUID()}`;
    const limiter = countingLimiter();
    // 600 per minute: leases of 30 units.
    const bindings = { ...limiter.bindings, ...limitTo("api_user", 600, 60) };
    // One call for the user's lease of 30, one for the address's api_anonymous lease of 100.
    for (let i = 0; i < 30; i++) expect((await send(app, asUser(user), bindings)).status).toBe(200);
    expect(limiter.calls()).toBe(2);
    expect((await send(app, asUser(user), bindings)).status).toBe(200);
    expect(limiter.calls()).toBe(3);
  });

  it("never admits more than the limit from one isolate, sequentially or in a burst", async () => {
    const overrides = limitTo("api_user", 40, 60);
    const sequential = `user-${crypto.randomUUID()}`;
    let admitted = 0;
    for (let i = 0; i < 60; i++) if ((await send(app, asUser(sequential), overrides)).status === 200) admitted += 1;
    // Leases of 2 units; one that expires unused (2 s) can only make it fewer, never more.
    expect(admitted).toBeLessThanOrEqual(40);
    expect(admitted).toBeGreaterThanOrEqual(30);

    const burst = `user-${crypto.randomUUID()}`;
    const statuses = (await Promise.all(Array.from({ length: 100 }, () => send(app, asUser(burst), overrides)))).map((response) => response.status);
    expect(statuses.filter((status) => status === 200).length).toBeLessThanOrEqual(40);
    // Concurrent first requests do not each take a lease and exhaust the limit between them.
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(30);
    expect(statuses.every((status) => status === 200 || status === 429)).toBe(true);
  });

  it("serves a burst of a key it admitted moments ago without a limiter call per request (admitted against the refills in flight)", async () => {
    const user = `user-${crypto.randomUUID()}`;
    const limiter = countingLimiter();
    // Leases of 100 units (the most one call takes), for api_user and the address's api_anonymous.
    const bindings = { ...limiter.bindings, ...limitTo("api_user", 100_000, 60) };
    expect((await send(app, asUser(user), bindings)).status).toBe(200);
    const statuses = (await Promise.all(Array.from({ length: 250 }, () => send(app, asUser(user), bindings)))).map((response) => response.status);
    expect(statuses.every((status) => status === 200)).toBe(true);
    // 99 units left in each lease, then two refills each. Before, every request that found the lease
    // empty while it was being refilled made its own call: about 500 calls for this burst.
    expect(limiter.calls()).toBeLessThanOrEqual(8);
  });

  it("admits nothing ahead of the limiter for a key it refused: a burst after the remembered refusal expires is refused in full", async () => {
    const user = `user-${crypto.randomUUID()}`;
    const overrides = limitTo("api_user", 40, 60);
    let admitted = 0;
    for (let i = 0; i < 45; i++) if ((await send(app, asUser(user), overrides)).status === 200) admitted += 1;
    expect(admitted).toBeLessThanOrEqual(40);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const statuses = (await Promise.all(Array.from({ length: 50 }, () => send(app, asUser(user), overrides)))).map((response) => response.status);
    expect(statuses.filter((status) => status === 200).length + admitted).toBeLessThanOrEqual(40);
    expect(statuses.every((status) => status === 429 || status === 200)).toBe(true);
  });

  it("remembers a refusal briefly: a flood is refused without a limiter call each", async () => {
    const user = `user-${crypto.randomUUID()}`;
    const limiter = countingLimiter();
    const bindings = { ...limiter.bindings, ...limitTo("api_user", 1, 60) };
    expect((await send(app, asUser(user), bindings)).status).toBe(200);
    const refused = await send(app, asUser(user), bindings);
    expect(refused.status).toBe(429);
    const calls = limiter.calls();
    for (let i = 0; i < 10; i++) {
      const again = await send(app, asUser(user), bindings);
      expect(again.status).toBe(429);
      expect(Number(again.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
      expect(again.headers.get("RateLimit")).toMatch(/"api_user";r=0/);
    }
    expect(limiter.calls()).toBe(calls);
  });
});
