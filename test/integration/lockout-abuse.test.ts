import { describe, expect, it } from "vitest";
import { sealAuditLog } from "../helpers/audit";
import { createUser, postJson, randomIp, tokenFromMail, uniqueEmail, waitForMail, type TestUser } from "../helpers/auth";
import { auditEventsFor, call } from "../helpers/rbac";

interface LoginBody {
  access_token: string;
  device_token: string;
}

/** Five failures for `user` from five unknown clients (random IPs): the account's shared counter is full. */
async function lockOut(user: TestUser): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    expect((await postJson("/auth/login", { email: user.email, password: `attacker guess ${attempt}` })).status).toBe(401);
  }
  expect((await postJson("/auth/login", { email: user.email, password: user.password })).status).toBe(429);
}

async function deviceTokenOf(user: TestUser): Promise<string> {
  const response = await postJson("/auth/login", { email: user.email, password: user.password });
  expect(response.status).toBe(200);
  const body = await response.json<LoginBody>();
  expect(body.device_token).toMatch(/^dt1\./);
  return body.device_token;
}

describe("lock-out cannot be used as a weapon against a client that signed in before (device tokens)", () => {
  it("the owner's known device still signs in while unknown clients are locked out", async () => {
    const user = await createUser();
    const device = await deviceTokenOf(user);
    await lockOut(user);
    const owner = await postJson("/auth/login", { email: user.email, password: user.password, device_token: device });
    expect(owner.status).toBe(200);
    expect(owner.headers.get("RateLimit-Policy")).toContain('"login_device"');
    expect(owner.headers.get("RateLimit-Policy")).not.toContain('"login_account"');
    // Still locked for everyone else.
    expect((await postJson("/auth/login", { email: user.email, password: user.password })).status).toBe(429);
  });

  it("a device token of another account, a forged one or a tampered one counts as an unknown client", async () => {
    const [victim, attacker] = await Promise.all([createUser(), createUser()]);
    const attackerDevice = await deviceTokenOf(attacker);
    const victimDevice = await deviceTokenOf(victim);
    await lockOut(victim);
    // The MAC's second-to-last character, replaced by one that always differs from it.
    const at = victimDevice.length - 2;
    const tampered = `${victimDevice.slice(0, at)}${victimDevice[at] === "A" ? "B" : "A"}${victimDevice.slice(at + 1)}`;
    expect(tampered).not.toBe(victimDevice);
    for (const device_token of [attackerDevice, tampered, "dt1.1700000000.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "junk"]) {
      expect((await postJson("/auth/login", { email: victim.email, password: victim.password, device_token })).status, device_token).toBe(429);
    }
  });

  it("failures from a known device lock that device alone", async () => {
    const user = await createUser();
    const device = await deviceTokenOf(user);
    for (let attempt = 0; attempt < 5; attempt++) {
      expect((await postJson("/auth/login", { email: user.email, password: `typo ${attempt}`, device_token: device })).status).toBe(401);
    }
    expect((await postJson("/auth/login", { email: user.email, password: user.password, device_token: device })).status).toBe(429);
    // Unknown clients were not counted by the device's failures.
    expect((await postJson("/auth/login", { email: user.email, password: user.password })).status).toBe(200);
  });
});

describe("clearing a lock-out", () => {
  it("a successful password reset clears the account's lock", async () => {
    const user = await createUser();
    await lockOut(user);
    expect((await postJson("/auth/password/forgot", { email: user.email })).status).toBe(202);
    const token = tokenFromMail((await waitForMail(user.email, "reset"))[0]!.text);
    expect((await postJson("/auth/password/reset", { token, new_password: "the owner is back 2024" })).status).toBe(204);
    expect((await postJson("/auth/login", { email: user.email, password: "the owner is back 2024" })).status).toBe(200);
  });

  it("POST /users/{id}/unlock clears it, is audited, and needs users:update over a user the caller outranks", async () => {
    const [admin, user, plain] = await Promise.all([createUser({ roles: ["admin"] }), createUser(), createUser()]);
    await lockOut(user);
    expect((await call(plain.accessToken, "POST", `/users/${user.id}/unlock`)).status).toBe(403);
    expect((await call(admin.accessToken, "POST", `/users/${crypto.randomUUID()}/unlock`)).status).toBe(404);
    expect((await call(admin.accessToken, "POST", `/users/${user.id}/unlock`)).status).toBe(204);
    expect((await postJson("/auth/login", { email: user.email, password: user.password })).status).toBe(200);
    await sealAuditLog();
    const [event] = (await auditEventsFor(user.id)).filter((row) => row.action === "user.unlocked");
    expect(event).toMatchObject({ actor_user_id: admin.id, target_id: user.id });
  });
});

describe("what an attacker can still do (the figures in docs/rate-limits.md)", () => {
  it("one IPv4 address: 100 failed logins per 5 minutes, i.e. 20 accounts per 5 minutes; then 429 without touching any account", async () => {
    const ip = randomIp();
    const victims = Array.from({ length: 21 }, (_, index) => uniqueEmail(`victim${index}`));
    let admitted = 0;
    for (const email of victims.slice(0, 20)) {
      const responses = await Promise.all(Array.from({ length: 5 }, (_, attempt) => postJson("/auth/login", { email, password: `guess ${attempt}` }, { ip })));
      admitted += responses.filter((response) => response.status === 401).length;
    }
    expect(admitted).toBe(100);
    // The 101st attempt is refused per IP, and the 21st victim's counter is untouched by it.
    const refused = await postJson("/auth/login", { email: victims[20]!, password: "guess" }, { ip });
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ "violated-policies": ["login_ip"] });
    const fresh = await postJson("/auth/login", { email: victims[20]!, password: "guess" });
    expect(fresh.headers.get("RateLimit")).toContain('"login_account";r=4');
  }, 120_000);

  // This also guards the api_anonymous leases: they once took one lease per address instead of per
  // /64, so 25 addresses of one /64 exhausted its 300-request budget in one burst.
  it("an IPv6 /48: every /64 has its own login_ip budget, but the whole /48 shares 500 attempts per 5 minutes", async () => {
    const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}`;
    let admitted = 0;
    // 5 /64s × 100 attempts = the /48's 500; each /64 alone would allow 100.
    for (let subnet = 0; subnet < 5; subnet++) {
      for (let batch = 0; batch < 4; batch++) {
        const responses = await Promise.all(
          Array.from({ length: 25 }, (_, index) => postJson("/auth/login", { email: uniqueEmail(`net${subnet}-${batch}-${index}`), password: "guess" }, { ip: `${prefix}:${subnet}::${index + 1}` })),
        );
        admitted += responses.filter((response) => response.status === 401).length;
      }
    }
    expect(admitted).toBe(500);
    const refused = await postJson("/auth/login", { email: uniqueEmail("net-next"), password: "guess" }, { ip: `${prefix}:99::1` });
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ "violated-policies": ["login_network"] });
  }, 300_000);
});
