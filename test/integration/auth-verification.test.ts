import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/lib/tokens";
import { callApp, expectProblem } from "../helpers/app-env";
import { API, createUser, postJson, randomIp, STRONG_PASSWORD, tokenFromMail, uniqueEmail, waitForMail } from "../helpers/auth";

const ACCEPTED = { status: "accepted", message: "If the address can receive mail, a message is on its way." };

async function registerUnverified(email = uniqueEmail("verify")): Promise<{ email: string; token: string }> {
  expect((await postJson("/auth/register", { email, password: STRONG_PASSWORD, first_name: "V", last_name: "Erify" })).status).toBe(202);
  const [mail] = await waitForMail(email, "verify");
  return { email, token: tokenFromMail(mail!.text) };
}

/** POST through a fresh app and wait for its background work (mail), so absence of mail is a fact. */
function postAndSettle(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return callApp(`${API}${path}`, { method: "POST", headers: { "Content-Type": "application/json", "CF-Connecting-IP": randomIp(), ...headers }, body: JSON.stringify(body) });
}

async function mailCount(email: string, subjectPart: string): Promise<number> {
  const row = await env.DB.prepare("select count(*) as n from captured_mails where to_address = ? and subject like ?").bind(email.toLowerCase(), `%${subjectPart}%`).first<{ n: number }>();
  return row!.n;
}

async function verifiedAt(email: string): Promise<number | null> {
  return (await env.DB.prepare("select email_verified_at from users where email = ?").bind(email).first<{ email_verified_at: number | null }>())!.email_verified_at;
}

describe("POST /auth/verify-email", () => {
  it("verifies once: 204, the flag is set, a second use is a 400 problem", async () => {
    const { email, token } = await registerUnverified();
    const response = await postJson("/auth/verify-email", { token });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");
    expect(await verifiedAt(email)).toEqual(expect.any(Number));
    const again = await expectProblem(await postJson("/auth/verify-email", { token }), 400, "invalid_token");
    expect(again.detail).toBe("The token is invalid, expired or already used.");
  });

  it("refuses an expired token and leaves the account unverified", async () => {
    const { email, token } = await registerUnverified();
    await env.DB.prepare("update email_tokens set expires_at = ? where token_hash = ?").bind(Date.now() - 1_000, await sha256Hex(token)).run();
    await expectProblem(await postJson("/auth/verify-email", { token }), 400, "invalid_token");
    expect(await verifiedAt(email)).toBeNull();
  });

  it("answers garbage of any shape with the same 400 problem", async () => {
    const bodies = new Set<string>();
    for (const token of ["garbage", "A".repeat(43), "../../etc/passwd", "rt_" + "B".repeat(43), "%00", "a.b.c"]) {
      const body = await expectProblem(await postJson("/auth/verify-email", { token }), 400, "invalid_token");
      bodies.add(JSON.stringify({ ...body, instance: null, request_id: null }));
    }
    expect(bodies.size).toBe(1);
    await expectProblem(await postJson("/auth/verify-email", {}), 422, "validation_failed");
    await expectProblem(await postJson("/auth/verify-email", { token: 12345 }), 422, "validation_failed");
  });

  it("refuses a password-reset token (tokens are bound to their purpose)", async () => {
    const user = await createUser();
    expect((await postJson("/auth/password/forgot", { email: user.email })).status).toBe(202);
    const [mail] = await waitForMail(user.email, "reset");
    await expectProblem(await postJson("/auth/verify-email", { token: tokenFromMail(mail!.text) }), 400, "invalid_token");
    // ...and the reset token is still usable for its own purpose.
    expect((await postJson("/auth/password/reset", { token: tokenFromMail(mail!.text), new_password: "a fresh passphrase 12" })).status).toBe(204);
  });

  it("lets only one of several concurrent uses of a token succeed", async () => {
    const { token } = await registerUnverified();
    const responses = await Promise.all(Array.from({ length: 5 }, () => postJson("/auth/verify-email", { token })));
    expect(responses.map((response) => response.status).sort()).toEqual([204, 400, 400, 400, 400]);
  });
});

describe("POST /auth/resend-verification", () => {
  it("answers 202 with one body for unverified, verified and unknown addresses", async () => {
    const unverified = await registerUnverified();
    const verified = await createUser();
    const texts = new Set<string>();
    for (const email of [unverified.email, verified.email, uniqueEmail("ghost")]) {
      const response = await postAndSettle("/auth/resend-verification", { email });
      expect(response.status).toBe(202);
      expect(response.headers.get("Content-Type")).toBe("application/json");
      texts.add(await response.text());
    }
    expect([...texts]).toEqual([JSON.stringify(ACCEPTED)]);
  });

  it("mails a new, working link only to an unverified account", async () => {
    const { email, token: first } = await registerUnverified();
    expect(await mailCount(email, "Confirm your email")).toBe(1);
    expect((await postAndSettle("/auth/resend-verification", { email: email.toUpperCase() })).status).toBe(202);
    expect(await mailCount(email, "Confirm your email")).toBe(2);
    const [newest] = await waitForMail(email, "verify", 1);
    const second = tokenFromMail(newest!.text);
    expect(second).not.toBe(first);
    expect((await postJson("/auth/verify-email", { token: second })).status).toBe(204);
    // Verified now: a further resend sends nothing, and the earlier link has nothing left to do.
    expect((await postAndSettle("/auth/resend-verification", { email })).status).toBe(202);
    expect(await mailCount(email, "Confirm your email")).toBe(2);
  });

  it("sends nothing for a verified or an unknown address", async () => {
    const verified = await createUser();
    const before = await mailCount(verified.email, "");
    expect((await postAndSettle("/auth/resend-verification", { email: verified.email })).status).toBe(202);
    expect(await mailCount(verified.email, "")).toBe(before);
    const ghost = uniqueEmail("ghost");
    expect((await postAndSettle("/auth/resend-verification", { email: ghost })).status).toBe(202);
    expect(await mailCount(ghost, "")).toBe(0);
  });

  it("builds the link from PUBLIC_BASE_URL, not from a hostile Host or X-Forwarded-Host", async () => {
    const email = uniqueEmail("host");
    const response = await callApp(`http://evil.example/api/v1/auth/register`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": randomIp(), "X-Forwarded-Host": "evil.example", Forwarded: "host=evil.example" },
      body: JSON.stringify({ email, password: STRONG_PASSWORD, first_name: "H", last_name: "Ost" }),
    });
    expect(response.status).toBe(202);
    await postAndSettle("/auth/resend-verification", { email }, { "X-Forwarded-Host": "evil.example", Host: "evil.example" });
    const mails = await waitForMail(email, "verify", 1);
    for (const mail of mails) {
      expect(mail.text).toMatch(/http:\/\/localhost\/verify-email\?token=[A-Za-z0-9_-]{43}/);
      expect(mail.text).not.toContain("evil.example");
    }
  });

  it("refuses a malformed address with 422", async () => {
    const body = await expectProblem(await postJson("/auth/resend-verification", { email: "not an email" }), 422, "validation_failed");
    expect(body.errors?.map((error) => error.path)).toEqual(["body.email"]);
  });
});
