// Real-browser tests of the sign-in security page (docs/mfa.md, "Hosted pages"): headless Chromium
// with a virtual authenticator (DevTools protocol WebAuthn domain: CTAP2, internal transport,
// resident keys, user verification) registers a passkey on the page and signs in with it, alone and
// as the second step after the password; an authenticator app is set up from the page (the test
// computes codes from the secret the page shows) and completes a sign-in; a recovery code too.
// Run by scripts/test-browser.mjs (part of `npm test`), which skips them when Chromium is missing.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { decodeBase32IgnorePadding } from "@oslojs/encoding";
import { generateHOTP } from "@oslojs/otp";
import { accessibilityFailures, linkIn, openPage, SCREENSHOTS, startHarness } from "./harness.mjs";

const PASSWORD = "a long and private passphrase 1";

let harness;
let counter = 0;

before(async () => {
  // WebAuthn needs a domain as its relying-party id: the pages are opened on localhost.
  harness = await startHarness({ host: "localhost" });
});

after(async () => {
  await harness?.stop();
});

const uniqueEmail = (label) => `${label}-${Date.now().toString(36)}-${++counter}@example.com`;
const screenshot = (page, name) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

/** A registered, verified account (through the emailed link's token). */
async function account(label) {
  const email = uniqueEmail(label);
  assert.equal((await harness.api.post("/auth/register", { email, password: PASSWORD, first_name: "Browser", last_name: "Test" })).status, 202);
  const link = linkIn(await harness.api.mail(email, "Confirm your email"), `${harness.base}/verify-email?token=`);
  assert.equal((await harness.api.post("/auth/verify-email", { token: new URL(link).searchParams.get("token") })).status, 204);
  return email;
}

async function statusText(page, expected) {
  try {
    await page.locator("#status").filter({ hasText: expected }).waitFor({ timeout: 15_000 });
  } catch (error) {
    throw new Error(`the status never said "${expected}"; it says "${await page.locator("#status").textContent()}"`, { cause: error });
  }
  return page.locator("#status").textContent();
}

/** The claims of the access token in the JSON answer of `urlPart` while `action` runs. */
async function claimsFrom(page, urlPart, action) {
  const [response] = await Promise.all([page.waitForResponse((candidate) => new URL(candidate.url()).pathname === `/api/v1${urlPart}` && candidate.request().method() === "POST"), action()]);
  const body = await response.json();
  assert.equal(response.status(), 200, JSON.stringify(body));
  return JSON.parse(Buffer.from(body.access_token.split(".")[1], "base64url").toString());
}

async function signInWithPassword(page, email) {
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

async function signOut(page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await statusText(page, "signed out");
}

/** A TOTP code for the step `offset` steps from now (RFC 6238: SHA-1, 6 digits, 30 s). */
function totp(secret, offset = 0) {
  return generateHOTP(decodeBase32IgnorePadding(secret), BigInt(Math.floor(Date.now() / 30_000) + offset), 6);
}

describe("passkeys on the sign-in security page", () => {
  it("registers a passkey with a virtual authenticator, signs in with it alone and as the second step, renames and deletes it", async () => {
    const email = await account("passkey");
    const { page, problems, close } = await openPage(harness.browser);
    try {
      const devtools = await page.context().newCDPSession(page);
      await devtools.send("WebAuthn.enable", { enableUI: false });
      const { authenticatorId } = await devtools.send("WebAuthn.addVirtualAuthenticator", {
        options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      });

      const response = await page.goto(`${harness.base}/account/security`);
      assert.equal(response.status(), 200);
      assert.match(response.headers()["content-security-policy"], /script-src 'self'/);
      await screenshot(page, "mfa-sign-in");
      assert.deepEqual(await accessibilityFailures(page), []);

      // No factor yet: the password alone signs in (aal1).
      const first = await claimsFrom(page, "/auth/login", () => signInWithPassword(page, email));
      assert.deepEqual([first.acr, first.amr], ["aal1", ["pwd"]]);
      await statusText(page, "You are signed in.");

      await page.getByLabel("Name for a new passkey (optional)").fill("Test laptop");
      await page.getByRole("button", { name: "Add a passkey" }).click();
      await statusText(page, "Passkey “Test laptop” added. Save your recovery codes now.");
      assert.equal(await page.locator("#recovery-codes li").count(), 10, "the first factor comes with 10 recovery codes, shown once");
      await page.locator(".passkey-name", { hasText: "Test laptop" }).waitFor();
      const stored = await devtools.send("WebAuthn.getCredentials", { authenticatorId });
      assert.equal(stored.credentials.length, 1);
      assert.equal(stored.credentials[0].isResidentCredential, true, "a discoverable credential, usable without a username");
      await screenshot(page, "mfa-passkey-added");
      assert.deepEqual(await accessibilityFailures(page), []);

      // Passwordless: the passkey alone, user-verified, is multi-factor.
      await signOut(page);
      const passwordless = await claimsFrom(page, "/auth/passkeys/login", () => page.getByRole("button", { name: "Sign in with a passkey" }).click());
      assert.equal(passwordless.acr, "aal2");
      assert.deepEqual(passwordless.amr, ["hwk", "user"]);
      await statusText(page, "signed in with your passkey");

      // With a factor, the password leads to the second step; the passkey completes it.
      await signOut(page);
      await signInWithPassword(page, email);
      await page.getByRole("heading", { name: "Second step" }).waitFor();
      assert.equal(await page.locator("#manage").isHidden(), true, "nothing is managed before the second factor");
      await screenshot(page, "mfa-second-step-passkey");
      assert.deepEqual(await accessibilityFailures(page), []);
      const second = await claimsFrom(page, "/auth/mfa/verify", () => page.getByRole("button", { name: "Use your passkey" }).click());
      assert.equal(second.acr, "aal2");
      assert.deepEqual(second.amr, ["pwd", "hwk", "mfa"]);
      await statusText(page, "You are signed in with your passkey.");

      // Rename, then delete (the fresh second factor satisfies the step-up rule).
      await page.getByLabel("New name for “Test laptop”").fill("Work laptop");
      await page.getByRole("button", { name: "Rename" }).click();
      await statusText(page, "Passkey renamed to “Work laptop”.");
      await page.getByRole("button", { name: "Delete “Work laptop”" }).click();
      await statusText(page, "Passkey “Work laptop” deleted.");
      await page.locator("#passkeys-empty").waitFor({ state: "visible" });
      assert.deepEqual(await problems(), []);
    } finally {
      await close();
    }
  });
});

describe("an authenticator app on the sign-in security page", () => {
  it("is set up from the QR code's secret, then completes a sign-in; a recovery code signs in once", async () => {
    const email = await account("totp");
    const { page, problems, close } = await openPage(harness.browser);
    try {
      await page.goto(`${harness.base}/account/security`);
      await signInWithPassword(page, email);
      await statusText(page, "You are signed in.");
      await page.getByRole("button", { name: "Set up an authenticator app" }).click();
      await page.locator("#totp-qr svg path").first().waitFor();
      const secret = await page.locator("#totp-secret").getAttribute("data-secret");
      assert.match(secret, /^[A-Z2-7]{32}$/, "a 160-bit base32 secret, shown as text for manual entry");
      assert.equal((await page.locator("#totp-secret").textContent()).replaceAll(" ", ""), secret);
      await screenshot(page, "mfa-totp-setup");
      assert.deepEqual(await accessibilityFailures(page), []);

      await page.getByLabel("The six-digit code your app shows now").fill(totp(secret));
      await page.getByRole("button", { name: "Turn on the authenticator app" }).click();
      await statusText(page, "Your authenticator app is on.");
      const codes = await page.locator("#recovery-codes li").allTextContents();
      assert.equal(codes.length, 10);
      assert.equal(await page.locator("#totp-setup").isHidden(), true, "the secret is gone from the page");
      await screenshot(page, "mfa-recovery-codes");

      // The next step's code (the confirmation used this one: a code works once).
      await signOut(page);
      await signInWithPassword(page, email);
      await page.getByLabel("Code from your authenticator app, or a recovery code").waitFor();
      await screenshot(page, "mfa-second-step-code");
      const signedIn = await claimsFrom(page, "/auth/mfa/verify", async () => {
        await page.getByLabel("Code from your authenticator app, or a recovery code").fill(totp(secret, 1));
        await page.getByRole("button", { name: "Continue" }).click();
      });
      assert.equal(signedIn.acr, "aal2");
      assert.deepEqual(signedIn.amr, ["pwd", "otp", "mfa"]);

      // Lost device: a recovery code signs in, once, and the page says to set up a new app.
      await signOut(page);
      await signInWithPassword(page, email);
      await page.getByLabel("Code from your authenticator app, or a recovery code").fill(codes[0]);
      await page.getByRole("button", { name: "Continue" }).click();
      assert.match(await statusText(page, "recovery code"), /You used a recovery code \(9 left\)/);
      await signOut(page);
      await signInWithPassword(page, email);
      await page.getByLabel("Code from your authenticator app, or a recovery code").fill(codes[0]);
      await page.getByRole("button", { name: "Continue" }).click();
      await statusText(page, "was not accepted");
      assert.deepEqual(await problems(), []);
    } finally {
      await close();
    }
  });
});
