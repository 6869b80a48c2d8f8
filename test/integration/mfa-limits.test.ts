import { describe, expect, it } from "vitest";
import { createUser, postJson, randomIp } from "../helpers/auth";
import { expectProblem } from "../helpers/app-env";
import { enrollTotp, freshTotp, loginToMfa } from "../helpers/mfa";
import { expectJson } from "../helpers/rbac";

/*
 * Second-factor failures are counted per mfa_token (5) and per account (10 per 15 minutes), in
 * their own buckets: they never lock the password path, and password failures never lock them
 * (Keycloak #46164 is the failure mode this prevents).
 */

const WRONG = "000000";

async function wrongCode(token: string, ip = randomIp()): Promise<Response> {
  return postJson("/auth/mfa/verify", { mfa_token: token, method: "totp", code: WRONG }, { ip });
}

describe("second-factor counters", () => {
  it("five wrong codes exhaust one mfa_token (even the right code is then refused); the password path is untouched", async () => {
    const user = await enrollTotp(await createUser());
    const step = await loginToMfa(user);
    for (let attempt = 0; attempt < 5; attempt++) await expectProblem(await wrongCode(step.mfa_token), 401, "invalid_mfa_code");
    const blocked = await postJson("/auth/mfa/verify", { mfa_token: step.mfa_token, method: "totp", code: await freshTotp(user) });
    expect(blocked.status).toBe(429);
    expect(((await blocked.json()) as { "violated-policies": string[] })["violated-policies"]).toEqual(["mfa_token"]);

    // The password still works (no lock-out), and a new attempt completes.
    const next = await loginToMfa(user);
    expect(next.status).toBe("mfa_required");
    const ok = await postJson("/auth/mfa/verify", { mfa_token: next.mfa_token, method: "totp", code: await freshTotp(user) });
    expect(ok.status).toBe(200);
  });

  it("ten wrong codes across attempts lock the account's second step, not its password check", async () => {
    const user = await enrollTotp(await createUser());
    for (let round = 0; round < 2; round++) {
      const step = await loginToMfa(user);
      for (let attempt = 0; attempt < 5; attempt++) await expectProblem(await wrongCode(step.mfa_token), 401, "invalid_mfa_code");
    }
    const step = await loginToMfa(user);
    expect(step.status).toBe("mfa_required");
    const blocked = await postJson("/auth/mfa/verify", { mfa_token: step.mfa_token, method: "totp", code: await freshTotp(user) });
    expect(blocked.status).toBe(429);
    expect(((await blocked.json()) as { "violated-policies": string[] })["violated-policies"]).toEqual(["mfa_account"]);
    // Wrong step-ups count in the same per-account bucket.
    const other = await enrollTotp(await createUser());
    expect((await postJson("/auth/mfa/step-up", { method: "totp", code: WRONG }, { token: other.accessToken })).status).toBe(401);
  });

  it("a password lock-out does not stop an mfa_token obtained with the right password", async () => {
    const user = await enrollTotp(await createUser());
    const step = await loginToMfa(user);
    for (let attempt = 0; attempt < 5; attempt++) await expectProblem(await postJson("/auth/login", { email: user.email, password: "wrong password 123" }), 401, "invalid_credentials");
    expect((await postJson("/auth/login", { email: user.email, password: user.password })).status).toBe(429);
    const signedIn = await expectJson(await postJson("/auth/mfa/verify", { mfa_token: step.mfa_token, method: "totp", code: await freshTotp(user) }), 200);
    expect(signedIn).toHaveProperty("access_token");
  });
});
