import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { API, BASE, createUser, postJson, randomIp } from "../helpers/auth";
import { callApp, expectProblem } from "../helpers/app-env";
import { claimsOf, enrollTotp, expireStepUp, freshTotp, loginToMfa } from "../helpers/mfa";
import { auditEventsFor, call, createAdmin, expectJson, newUserBody } from "../helpers/rbac";

async function mfaSession(user: Awaited<ReturnType<typeof enrollTotp>>) {
  const step = await loginToMfa(user);
  return expectJson<{ access_token: string; refresh_token: string }>(await postJson("/auth/mfa/verify", { mfa_token: step.mfa_token, method: "totp", code: await freshTotp(user) }), 200);
}

describe("assurance in tokens and sessions", () => {
  it("a step-up lifts an aal1 session for the window; refresh keeps it while fresh and drops back after", async () => {
    const user = await enrollTotp(await createUser());
    // user.accessToken's session signed in with the password only (before enrollment).
    const sessionId = claimsOf(user.accessToken).sid as string;
    const stepped = await expectJson<{ access_token: string }>(await call(user.accessToken, "POST", "/auth/mfa/step-up", { method: "totp", code: await freshTotp(user) }), 200);
    expect(claimsOf(stepped.access_token)).toMatchObject({ sid: sessionId, acr: "aal2", amr: ["pwd", "otp", "mfa"] });
    const fresh = await expectJson<{ access_token: string; refresh_token: string }>(await postJson("/auth/refresh", { refresh_token: user.refreshToken }), 200);
    expect(claimsOf(fresh.access_token)).toMatchObject({ acr: "aal2" });

    await expireStepUp(sessionId);
    const later = await expectJson<{ access_token: string }>(await postJson("/auth/refresh", { refresh_token: fresh.refresh_token }), 200);
    expect(claimsOf(later.access_token)).toMatchObject({ acr: "aal1", amr: ["pwd"] });
    expect(claimsOf(later.access_token).auth_time).toBe(claimsOf(user.accessToken).auth_time);
    const row = await env.DB.prepare("select acr from sessions where id = ?").bind(sessionId).first();
    expect(row).toEqual({ acr: "aal1" });
  });
});

describe("requireAssurance on sensitive routes", () => {
  it("role administration, user deletion and password change answer step_up_required without a fresh factor", async () => {
    const admin = await enrollTotp(await createAdmin());
    const session = await mfaSession(admin);
    await expireStepUp(claimsOf(session.access_token).sid as string);
    const victim = await createUser();
    await expectProblem(await call(session.access_token, "POST", "/roles", { name: `r-${crypto.randomUUID().slice(0, 8)}`, permissions: [] }), 401, "step_up_required");
    await expectProblem(await call(session.access_token, "DELETE", `/users/${victim.id}`), 401, "step_up_required");
    await expectProblem(await call(session.access_token, "POST", "/auth/password/change", { current_password: admin.password, new_password: "another passphrase 99" }), 401, "step_up_required");
    // Reading needs no step-up.
    expect((await call(session.access_token, "GET", "/roles")).status).toBe(200);

    await call(session.access_token, "POST", "/auth/mfa/step-up", { method: "totp", code: await freshTotp(admin) });
    expect((await call(session.access_token, "POST", "/roles", { name: `r-${crypto.randomUUID().slice(0, 8)}`, permissions: [] })).status).toBe(201);
    expect((await call(session.access_token, "DELETE", `/users/${victim.id}`)).status).toBe(204);
  });

  it("an account without any factor is not asked to step up (it has nothing to step up with)", async () => {
    const admin = await createAdmin();
    expect((await call(admin.accessToken, "POST", "/roles", { name: `r-${crypto.randomUUID().slice(0, 8)}`, permissions: [] })).status).toBe(201);
  });

  it("the OpenAPI document shows x-required-assurance next to the permissions", async () => {
    const document = await (await SELF.fetch(`${BASE}/openapi.json`)).json<{ paths: Record<string, Record<string, Record<string, unknown>>> }>();
    const assurance = (path: string, method: string) => document.paths[path]![method]!["x-required-assurance"];
    expect(assurance("/api/v1/roles", "post")).toBe("aal2");
    expect(assurance("/api/v1/roles/{id}", "delete")).toBe("aal2");
    expect(assurance("/api/v1/permissions", "post")).toBe("aal2");
    expect(assurance("/api/v1/users/{id}", "delete")).toBe("aal2");
    expect(assurance("/api/v1/users/{id}/roles", "put")).toBe("aal2");
    expect(assurance("/api/v1/auth/password/change", "post")).toBe("aal2");
    expect(assurance("/api/v1/auth/mfa/totp", "delete")).toBe("aal2");
    expect(assurance("/api/v1/auth/passkeys/{id}", "delete")).toBe("aal2");
    expect(assurance("/api/v1/users/{id}/mfa", "delete")).toBe("aal2");
    expect(assurance("/api/v1/roles", "get")).toBeUndefined();
    expect(document.paths["/api/v1/users/{id}/mfa"]!.delete!["x-required-permissions"]).toEqual(["mfa:reset"]);
  });
});

describe("MFA_REQUIRED_PERMISSIONS", () => {
  const policy = { MFA_REQUIRED_PERMISSIONS: "roles:*,users:delete" };
  const get = (path: string, token: string) => callApp(`${API}${path}`, { headers: { Authorization: `Bearer ${token}`, "CF-Connecting-IP": randomIp() } }, { env: policy });

  it("holders must enroll: 403 mfa_enrollment_required until they have a factor; others are unaffected", async () => {
    const admin = await createAdmin();
    const refused = await expectProblem(await get("/roles", admin.accessToken), 403, "mfa_enrollment_required");
    expect(refused.mfa_required_permissions).toEqual(["roles:read"]);
    // Routes outside the policy, and the enrollment routes themselves, still work.
    expect((await get("/users/me", admin.accessToken)).status).toBe(200);
    const user = await createUser();
    await expectProblem(await get("/roles", user.accessToken), 403, "forbidden");

    await enrollTotp(admin);
    expect((await get("/roles", admin.accessToken)).status).toBe(200);
  });

  it("refuses a malformed policy entry at startup", async () => {
    const response = await callApp(`${BASE}/health/ready`, {}, { env: { MFA_REQUIRED_PERMISSIONS: "roles" } });
    expect(response.status).toBe(503);
  });
});

describe("lost device: an administrator's mfa:reset", () => {
  it("removes every factor (audited, the user is emailed); the next sign-in is password-only", async () => {
    const admin = await createAdmin();
    const user = await enrollTotp(await createUser());
    const manager = await createUser({ roles: ["manager"] });
    await expectProblem(await call(manager.accessToken, "DELETE", `/users/${user.id}/mfa`), 403, "forbidden");

    const reset = await call(admin.accessToken, "DELETE", `/users/${user.id}/mfa`);
    expect(reset.status).toBe(204);
    const login = await expectJson(await postJson("/auth/login", { email: user.email, password: user.password }), 200);
    expect(login).toHaveProperty("access_token");
    const event = (await auditEventsFor(user.id)).find((row) => row.action === "mfa.reset");
    expect(event).toMatchObject({ actor_user_id: admin.id, changes: { totp: true, passkeys: 0, recovery_codes: 10 } });
    const mails = await env.DB.prepare("select subject from captured_mails where to_address = ?").bind(user.email).all<{ subject: string }>();
    expect(mails.results.map((mail) => mail.subject)).toContain("Your Edge Auth two-step verification was reset");
    await expectProblem(await call(admin.accessToken, "DELETE", `/users/${crypto.randomUUID()}/mfa`), 404, "not_found");
  });

  it("an admin-created account gets the same second step once it enrolls", async () => {
    const admin = await createAdmin();
    const body = newUserBody();
    const created = await call(admin.accessToken, "POST", "/users", body);
    expect(created.status).toBe(201);
    const tokens = await expectJson<{ access_token: string; refresh_token: string }>(await postJson("/auth/login", { email: body.email, password: body.password }), 200);
    expect(claimsOf(tokens.access_token)).toMatchObject({ acr: "aal1" });
    const id = claimsOf(tokens.access_token).sub as string;
    await enrollTotp({ id, email: body.email as string, password: body.password as string, accessToken: tokens.access_token, refreshToken: tokens.refresh_token });
    expect((await loginToMfa({ email: body.email as string, password: body.password as string })).status).toBe("mfa_required");
  });
});
