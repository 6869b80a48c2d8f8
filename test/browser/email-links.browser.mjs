// Real-browser tests of the hosted pages behind emailed links (docs/integration.md, "Email links and
// hosted pages"): headless Chromium opens the link from the dev mailbox of the production bundle,
// acts as a person would (keyboard, labels), and the resulting state is checked through the API.
// Run by scripts/test-browser.mjs (part of `npm test`), which skips them when Chromium is missing.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { accessibilityFailures, linkIn, openPage, PASSWORD_MIN_LENGTH, SCREENSHOTS, startHarness, tabTo } from "./harness.mjs";

const PASSWORD = "a long and private passphrase 1";
const NEW_PASSWORD = "another entirely new passphrase 2";

let harness;
let counter = 0;

before(async () => {
  harness = await startHarness();
});

after(async () => {
  await harness?.stop();
});

const uniqueEmail = (label) => `${label}-${Date.now().toString(36)}-${++counter}@example.com`;

async function register(email) {
  const { status } = await harness.api.post("/auth/register", { email, password: PASSWORD, first_name: "Browser", last_name: "Test" });
  assert.equal(status, 202);
  return harness.api.mail(email, "Confirm your email");
}

const login = (email, password) => harness.api.post("/auth/login", { email, password });

const screenshot = (page, name) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

async function statusText(page, expected) {
  await page.locator("#status").filter({ hasText: expected }).waitFor({ timeout: 10_000 });
  return page.locator("#status").textContent();
}

describe("verify-email page", () => {
  it("confirms the address on a keyboard press of the button, never on opening the link", async () => {
    const email = uniqueEmail("verify");
    const mail = await register(email);
    const link = linkIn(mail, `${harness.base}/verify-email?token=`);
    const { page, problems, close } = await openPage(harness.browser);
    try {
      const response = await page.goto(link);
      assert.equal(response.status(), 200);
      assert.equal(new URL(page.url()).search, "", "the token is removed from the address bar");
      await screenshot(page, "verify-email");
      // Opening the link (what a mail scanner does) changed nothing.
      assert.equal((await login(email, PASSWORD)).body.code, "email_not_verified");

      const focus = await tabTo(page, "button[type=submit]");
      assert.notEqual(focus.style, "none", "keyboard focus is visible");
      assert.ok(focus.width >= 2, "the focus outline is at least 2px");
      await page.keyboard.press("Enter");
      assert.match(await statusText(page, "confirmed"), /Your email address is confirmed\. You can now sign in\./);
      assert.equal(await page.locator("#verify-form").isHidden(), true);
      await screenshot(page, "verify-email-done");
      assert.deepEqual(await accessibilityFailures(page), []);
      assert.deepEqual(await problems(), []);

      const signedIn = await login(email, PASSWORD);
      assert.equal(signedIn.status, 200);
      assert.equal(typeof signedIn.body.access_token, "string");
    } finally {
      await close();
    }
  });

  it("says plainly that a used link no longer works", async () => {
    const email = uniqueEmail("verify-twice");
    const link = linkIn(await register(email), `${harness.base}/verify-email?token=`);
    const token = new URL(link).searchParams.get("token");
    assert.equal((await harness.api.post("/auth/verify-email", { token })).status, 204);
    const { page, problems, close } = await openPage(harness.browser);
    try {
      await page.goto(link);
      await page.getByRole("button", { name: "Confirm my email address" }).click();
      assert.match(await statusText(page, "already used"), /This link is invalid, has expired or was already used\./);
      assert.equal(await page.locator("#status").getAttribute("data-kind"), "error");
      await screenshot(page, "verify-email-used");
      assert.deepEqual(await accessibilityFailures(page), []);
      assert.deepEqual(await problems(), []);
    } finally {
      await close();
    }
  });
});

describe("forgot-password and reset-password pages", () => {
  it("request a link, refuse bad passwords with the rules from config, and reset the password", async () => {
    const email = uniqueEmail("reset");
    const verification = linkIn(await register(email), `${harness.base}/verify-email?token=`);
    assert.equal((await harness.api.post("/auth/verify-email", { token: new URL(verification).searchParams.get("token") })).status, 204);
    const { page, problems, close } = await openPage(harness.browser);
    try {
      await page.goto(`${harness.base}/forgot-password`);
      await screenshot(page, "forgot-password");
      await page.getByLabel("Email address").fill(email);
      await page.keyboard.press("Enter");
      assert.match(await statusText(page, "on its way"), /If this address has an account, a reset link is on its way\./);

      const link = linkIn(await harness.api.mail(email, "Reset your"), `${harness.base}/reset-password?token=`);
      await page.goto(link);
      assert.equal(new URL(page.url()).search, "");
      const rules = await page.locator("#password-rules").textContent();
      assert.match(rules, new RegExp(`at least ${PASSWORD_MIN_LENGTH} characters`), "the rules show PASSWORD_MIN_LENGTH");
      await screenshot(page, "reset-password");

      const password = page.getByLabel("New password", { exact: true });
      const confirmation = page.getByLabel("Repeat the new password");
      // Too short: refused in the page, with the configured minimum, next to the field.
      await password.fill("short pass");
      await confirmation.fill("short pass");
      await page.getByRole("button", { name: "Save the new password" }).click();
      assert.equal(await page.locator("#new-password-error").textContent(), `Use at least ${PASSWORD_MIN_LENGTH} characters.`);
      assert.equal(await password.getAttribute("aria-invalid"), "true");
      assert.equal(await page.evaluate(() => document.activeElement?.id), "new-password", "focus moves to the field to fix");
      // Different confirmation.
      await password.fill(NEW_PASSWORD);
      await confirmation.fill(`${NEW_PASSWORD}x`);
      await confirmation.press("Enter");
      assert.equal(await page.locator("#confirm-password-error").textContent(), "The two passwords are not the same.");
      // The server's own policy (the email as password): its message is shown, and the link still works.
      await password.fill(email);
      await confirmation.fill(email);
      await confirmation.press("Enter");
      await page.locator("#new-password-error").filter({ hasText: "email" }).waitFor();
      assert.equal(await page.locator("#new-password-error").textContent(), "Password must not be the email address.");
      await screenshot(page, "reset-password-refused");

      await password.fill(NEW_PASSWORD);
      await confirmation.fill(NEW_PASSWORD);
      await confirmation.press("Enter");
      assert.match(await statusText(page, "password is changed"), /Your password is changed/);
      assert.equal(await page.locator("#next-steps").isVisible(), true);
      await screenshot(page, "reset-password-done");
      assert.deepEqual(await accessibilityFailures(page), []);
      assert.deepEqual(await problems(), []);

      assert.equal((await login(email, NEW_PASSWORD)).status, 200, "the new password signs in");
      const old = await login(email, PASSWORD);
      assert.equal(old.status, 401, "the old password no longer does");
      assert.equal(old.body.code, "invalid_credentials");
    } finally {
      await close();
    }
  });
});

describe("every hosted page", () => {
  for (const route of ["/verify-email?token=unused", "/reset-password?token=unused", "/forgot-password", "/account"]) {
    it(`${route.split("?")[0]} is accessible and runs under its CSP`, async () => {
      const { page, problems, close } = await openPage(harness.browser);
      try {
        const response = await page.goto(`${harness.base}${route}`);
        assert.equal(response.status(), 200);
        const csp = response.headers()["content-security-policy"];
        assert.match(csp, /script-src 'self'/);
        assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
        // The stylesheet really applied (a blocked one would leave the browser's defaults).
        assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor), "rgb(242, 244, 247)");
        assert.deepEqual(await accessibilityFailures(page), []);
        assert.deepEqual(await problems(), []);
        await screenshot(page, `page${route.split("?")[0].replaceAll("/", "-")}`);
      } finally {
        await close();
      }
    });
  }
});
