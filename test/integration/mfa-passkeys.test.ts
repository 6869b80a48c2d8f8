import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createUser, postJson } from "../helpers/auth";
import { expectProblem } from "../helpers/app-env";
import { SoftwareAuthenticator } from "../helpers/authenticator";
import { claimsOf, expireStepUp, loginToMfa, registerPasskey } from "../helpers/mfa";
import { auditEventsFor, call, expectJson } from "../helpers/rbac";

type Options = { challenge: string; rpId?: string; allowCredentials?: { id: string }[] };

async function passwordlessOptions(): Promise<Options> {
  return (await expectJson<{ options: Options }>(await postJson("/auth/passkeys/login/options", undefined), 200)).options;
}

describe("passkey registration and management", () => {
  it("registers a passkey (first factor: recovery codes once), lists, renames it, stores counter and backup flags", async () => {
    const user = await createUser();
    const { passkey, recovery_codes } = await registerPasskey(user, undefined, "Laptop");
    expect(passkey).toMatchObject({ name: "Laptop", device_type: "singleDevice", backed_up: false, transports: ["internal"] });
    expect(recovery_codes).toHaveLength(10);
    const row = await env.DB.prepare("select sign_count, backed_up, device_type from webauthn_credentials where id = ?").bind(passkey.id).first();
    expect(row).toEqual({ sign_count: 0, backed_up: 0, device_type: "singleDevice" });

    // A second passkey is not the first factor: no new codes.
    const second = await registerPasskey(user, new SoftwareAuthenticator({ origin: "http://localhost", synced: true }));
    expect(second.recovery_codes).toBeUndefined();
    expect(second.passkey).toMatchObject({ device_type: "multiDevice", backed_up: true });

    const list = await expectJson<{ items: { id: string }[] }>(await call(user.accessToken, "GET", "/auth/passkeys"), 200);
    expect(list.items.map((item) => item.id)).toEqual([second.passkey.id, passkey.id]);
    const renamed = await expectJson(await call(user.accessToken, "PATCH", `/auth/passkeys/${passkey.id}`, { name: "Work laptop" }), 200);
    expect(renamed).toMatchObject({ id: passkey.id, name: "Work laptop" });
    expect((await auditEventsFor(passkey.id)).map((event) => event.action)).toEqual(["mfa.passkey_added"]);

    // Someone else's passkey is not found.
    const other = await createUser();
    await expectProblem(await call(other.accessToken, "PATCH", `/auth/passkeys/${passkey.id}`, { name: "Mine" }), 404, "not_found");
    await expectProblem(await call(other.accessToken, "DELETE", `/auth/passkeys/${passkey.id}`), 404, "not_found");
  });

  it("refuses a response without user verification, from another origin, or to a challenge issued to another session; a challenge works once", async () => {
    const user = await createUser();
    const options = async (token = user.accessToken) => (await expectJson<{ options: { challenge: string; rp: { id: string }; user: { id: string } } }>(await call(token, "POST", "/auth/passkeys/registration/options"), 200)).options;

    const noUv = new SoftwareAuthenticator({ origin: "http://localhost", userVerified: false });
    await expectProblem(await call(user.accessToken, "POST", "/auth/passkeys/registration", { credential: await noUv.create(await options()) }), 400, "invalid_mfa_code");
    const foreign = new SoftwareAuthenticator({ origin: "https://evil.example" });
    await expectProblem(await call(user.accessToken, "POST", "/auth/passkeys/registration", { credential: await foreign.create(await options()) }), 400, "invalid_mfa_code");

    const otherSession = await expectJson<{ access_token: string }>(await postJson("/auth/login", { email: user.email, password: user.password }), 200);
    const good = new SoftwareAuthenticator({ origin: "http://localhost" });
    const credential = await good.create(await options());
    await expectProblem(await call(otherSession.access_token, "POST", "/auth/passkeys/registration", { credential }), 400, "invalid_mfa_code");

    const fresh = await good.create(await options());
    expect((await call(user.accessToken, "POST", "/auth/passkeys/registration", { credential: fresh })).status).toBe(201);
    await expectProblem(await call(user.accessToken, "POST", "/auth/passkeys/registration", { credential: fresh }), 400, "invalid_mfa_code");
    expect((await env.DB.prepare("select count(*) as n from webauthn_credentials where user_id = ?").bind(user.id).first<{ n: number }>())!.n).toBe(1);
  });

  it("deleting a passkey needs a fresh factor; a passkey step-up provides it; the last one takes the codes along", async () => {
    const user = await createUser();
    const { passkey, authenticator } = await registerPasskey(user);
    await expireStepUp(claimsOf(user.accessToken).sid as string);
    await expectProblem(await call(user.accessToken, "DELETE", `/auth/passkeys/${passkey.id}`), 401, "step_up_required");

    const { options } = await expectJson<{ options: Options }>(await call(user.accessToken, "POST", "/auth/mfa/step-up/options"), 200);
    const credential = await authenticator.get(options);
    const stepped = await expectJson<{ access_token: string }>(await call(user.accessToken, "POST", "/auth/mfa/step-up", { method: "webauthn", credential }), 200);
    expect(claimsOf(stepped.access_token)).toMatchObject({ acr: "aal2", amr: ["pwd", "hwk", "mfa"] });
    // The step-up challenge is single-use.
    await expectProblem(await call(user.accessToken, "POST", "/auth/mfa/step-up", { method: "webauthn", credential }), 401, "invalid_mfa_code");

    expect((await call(user.accessToken, "DELETE", `/auth/passkeys/${passkey.id}`)).status).toBe(204);
    expect(await expectJson(await call(user.accessToken, "GET", "/auth/mfa"), 200)).toMatchObject({ passkeys: 0, recovery_codes_remaining: 0, methods: [] });
    expect((await auditEventsFor(passkey.id)).map((event) => event.action)).toEqual(["mfa.passkey_removed", "mfa.passkey_added"]);
  });
});

describe("passkey as the second factor after a password", () => {
  it("login offers webauthn; the assertion to the mfa_token's challenge signs in at aal2 (amr pwd, hwk, mfa), once", async () => {
    const user = await createUser();
    const { authenticator } = await registerPasskey(user);
    const step = await loginToMfa(user);
    expect(step.methods).toEqual(["webauthn", "recovery_code"]);
    const { options } = await expectJson<{ options: Options }>(await postJson("/auth/mfa/webauthn/options", { mfa_token: step.mfa_token }), 200);
    expect(options.allowCredentials).toHaveLength(1);
    const credential = await authenticator.get(options);
    const signedIn = await expectJson<{ access_token: string }>(await postJson("/auth/mfa/verify", { mfa_token: step.mfa_token, method: "webauthn", credential }), 200);
    expect(claimsOf(signedIn.access_token)).toMatchObject({ acr: "aal2", amr: ["pwd", "hwk", "mfa"] });
    const counter = await env.DB.prepare("select sign_count, last_used_at from webauthn_credentials where user_id = ?").bind(user.id).first<{ sign_count: number; last_used_at: number }>();
    expect(counter!.sign_count).toBe(1);
    expect(counter!.last_used_at).toBeGreaterThan(0);

    // A new login: the old assertion answers another challenge and is refused.
    const next = await loginToMfa(user);
    await postJson("/auth/mfa/webauthn/options", { mfa_token: next.mfa_token });
    await expectProblem(await postJson("/auth/mfa/verify", { mfa_token: next.mfa_token, method: "webauthn", credential }), 401, "invalid_mfa_code");
  });

  it("another user's passkey does not complete this user's login", async () => {
    const victim = await createUser();
    await registerPasskey(victim);
    const attacker = await createUser();
    const { authenticator } = await registerPasskey(attacker);
    const step = await loginToMfa(victim);
    const { options } = await expectJson<{ options: Options }>(await postJson("/auth/mfa/webauthn/options", { mfa_token: step.mfa_token }), 200);
    const credential = await authenticator.get({ ...options, allowCredentials: [] });
    await expectProblem(await postJson("/auth/mfa/verify", { mfa_token: step.mfa_token, method: "webauthn", credential }), 401, "invalid_mfa_code");
  });
});

describe("passwordless sign-in with a discoverable passkey", () => {
  it("signs in at aal2 with amr [hwk, user] (device-bound) or [swk, user] (synced); each challenge once", async () => {
    const user = await createUser();
    const { authenticator } = await registerPasskey(user);
    const options = await passwordlessOptions();
    expect(options.allowCredentials ?? []).toEqual([]);
    const credential = await authenticator.get({ ...options, rpId: "localhost" });
    const signedIn = await expectJson<{ access_token: string; refresh_token: string }>(await postJson("/auth/passkeys/login", { credential }), 200);
    expect(claimsOf(signedIn.access_token)).toMatchObject({ sub: user.id, acr: "aal2", amr: ["hwk", "user"] });
    await expectProblem(await postJson("/auth/passkeys/login", { credential }), 401, "invalid_mfa_code");

    const synced = await createUser();
    const { authenticator: cloud } = await registerPasskey(synced, new SoftwareAuthenticator({ origin: "http://localhost", synced: true }));
    const again = await cloud.get({ ...(await passwordlessOptions()), rpId: "localhost" });
    const syncedIn = await expectJson<{ access_token: string }>(await postJson("/auth/passkeys/login", { credential: again }), 200);
    expect(claimsOf(syncedIn.access_token)).toMatchObject({ acr: "aal2", amr: ["swk", "user"] });

    // Refresh keeps the sign-in's level and methods.
    const refreshed = await expectJson<{ access_token: string }>(await postJson("/auth/refresh", { refresh_token: signedIn.refresh_token }), 200);
    expect(claimsOf(refreshed.access_token)).toMatchObject({ acr: "aal2", amr: ["hwk", "user"] });
  });

  it("refuses an unknown credential, a forged signature, and a disabled account", async () => {
    const stranger = new SoftwareAuthenticator({ origin: "http://localhost" });
    await stranger.create({ challenge: "x", rp: { id: "localhost" }, user: { id: "nobody" } });
    await expectProblem(await postJson("/auth/passkeys/login", { credential: await stranger.get({ ...(await passwordlessOptions()), rpId: "localhost" }) }), 401, "invalid_mfa_code");

    const user = await createUser();
    const { authenticator } = await registerPasskey(user);
    const assertion = await authenticator.get({ ...(await passwordlessOptions()), rpId: "localhost" });
    const forged = { ...assertion, response: { ...assertion.response, signature: assertion.response.signature.slice(0, -4) + "AAAA" } };
    await expectProblem(await postJson("/auth/passkeys/login", { credential: forged }), 401, "invalid_mfa_code");

    await env.DB.prepare("update users set is_active = 0 where id = ?").bind(user.id).run();
    await expectProblem(await postJson("/auth/passkeys/login", { credential: await authenticator.get({ ...(await passwordlessOptions()), rpId: "localhost" }) }), 403, "account_disabled");
  });
});
