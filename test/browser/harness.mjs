// What the real-browser tests share: the production bundle served on a free loopback port, a
// headless Chromium from the operating system (Debian's package), and API helpers.
import { existsSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { chromium } from "playwright-core";
import { root } from "../../scripts/lib.mjs";
import { serveBundle } from "../../scripts/serve-bundle.mjs";

/** Chromium binaries of the operating system, in order of preference (CHROMIUM_PATH first). */
const CANDIDATES = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** The first Chromium binary that exists, or undefined. */
export function findChromium() {
  return CANDIDATES.find((candidate) => candidate && existsSync(candidate));
}

/** Where screenshots go (git-ignored); look at them after a change to the pages. */
export const SCREENSHOTS = path.join(root, "test-results", "browser");

/** The password rules the served pages must show come from configuration: a non-default minimum. */
export const PASSWORD_MIN_LENGTH = 12;

/**
 * A free loopback port. The emailed links are built from PUBLIC_BASE_URL, so the port must be
 * known before the worker starts; the tiny window between closing this probe and binding is harmless.
 */
async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts the worker and the browser; `stop()` ends both. `host` names the origin the pages are
 * opened on: passkey tests need `localhost`, because WebAuthn refuses an IP address as its RP ID.
 */
export async function startHarness({ host = "127.0.0.1" } = {}) {
  const port = await freePort();
  const base = `http://${host}:${port}`;
  const server = await serveBundle({ port, vars: { PUBLIC_BASE_URL: base, PASSWORD_MIN_LENGTH: String(PASSWORD_MIN_LENGTH) } });
  let browser;
  try {
    // Root in a container has no user namespaces for Chromium's sandbox; the pages are our own.
    browser = await chromium.launch({ executablePath: findChromium(), args: ["--no-sandbox"] });
  } catch (error) {
    await server.dispose();
    throw error;
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    base,
    browser,
    api: apiClient(base),
    async stop() {
      await browser.close().catch(() => {});
      await server.dispose();
    },
  };
}

let ipCounter = 0;

/** API calls as a client would make them; each from its own TEST-NET address (separate rate-limit buckets). */
function apiClient(base) {
  const call = async (method, route, body) => {
    ipCounter += 1;
    const headers = { "CF-Connecting-IP": `203.0.113.${ipCounter % 250 + 1}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(`${base}/api/v1${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, body: text === "" ? null : JSON.parse(text) };
  };
  return {
    post: (route, body) => call("POST", route, body),
    get: (route) => call("GET", route),
    /** The newest captured email to `to` whose subject contains `subject`, waiting for it (mail is sent after the response). */
    async mail(to, subject) {
      for (let attempt = 0; attempt < 100; attempt++) {
        const { body } = await call("GET", `/dev/mailbox?to=${encodeURIComponent(to)}`);
        const found = body?.items?.find((item) => item.subject.includes(subject));
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`no "${subject}" mail for ${to}`);
    },
  };
}

/** The first link in an email's text that starts with `base`. */
export function linkIn(mail, base) {
  const link = mail.text.split(/\s+/).find((word) => word.startsWith(base));
  if (!link) throw new Error(`no link to ${base} in: ${mail.text}`);
  return link;
}

/**
 * Opens a page that records every Content-Security-Policy violation and script error, so a test can
 * assert the page ran under its CSP without needing anything the policy forbids.
 */
export async function openPage(browser) {
  const context = await browser.newContext({ viewport: { width: 800, height: 720 }, colorScheme: "light" });
  const page = await context.newPage();
  const problems = [];
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      (window.__cspViolations ??= []).push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  // The API's 4xx answers are the pages' business (they show them); any other failed load is a bug.
  page.on("response", (response) => {
    if (response.status() >= 400 && !new URL(response.url()).pathname.startsWith("/api/")) problems.push(`${response.status()} for ${response.url()}`);
  });
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) problems.push(`console error: ${message.text()}`);
  });
  page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));
  return {
    page,
    async problems() {
      const violations = await page.evaluate(() => window.__cspViolations ?? []);
      return [...problems, ...violations.map((violation) => `CSP violation: ${violation}`)];
    },
    close: () => context.close(),
  };
}

/**
 * Accessibility facts of the current page that a browser can measure: every form control has a
 * label, text contrast against its real background (WCAG 2.x formula), a live region, a language.
 * Returns a list of failures (empty when the page passes).
 */
export async function accessibilityFailures(page) {
  return page.evaluate(() => {
    const failures = [];
    const parse = (color) => {
      const match = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/.exec(color);
      return match ? { r: +match[1], g: +match[2], b: +match[3], a: match[4] === undefined ? 1 : +match[4] } : null;
    };
    const luminance = ({ r, g, b }) => {
      const channel = (value) => {
        const c = value / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const background = (element) => {
      for (let node = element; node; node = node.parentElement) {
        const color = parse(getComputedStyle(node).backgroundColor);
        if (color && color.a > 0.5) return color;
      }
      return { r: 255, g: 255, b: 255, a: 1 };
    };
    if (!document.documentElement.lang) failures.push("html has no lang");
    if (document.querySelectorAll("h1").length !== 1) failures.push("the page needs exactly one h1");
    for (const control of document.querySelectorAll("input, select, textarea")) {
      if (control.type === "hidden") continue;
      if (control.labels.length === 0 || control.labels[0].textContent.trim() === "") failures.push(`#${control.id} has no label`);
    }
    const status = document.getElementById("status");
    if (document.querySelector("form") && (!status || status.getAttribute("aria-live") !== "polite" || status.getAttribute("role") !== "status")) {
      failures.push("a page with a form needs the #status live region");
    }
    const texts = document.querySelectorAll("h1, p, label, li, button, a, .status, .hint, input");
    for (const element of texts) {
      const style = getComputedStyle(element);
      if (style.display === "none" || style.visibility === "hidden" || element.closest("[hidden]")) continue;
      if (element.tagName !== "INPUT" && element.textContent.trim() === "") continue;
      const foreground = parse(style.color);
      const ratio = (Math.max(luminance(foreground), luminance(background(element))) + 0.05) / (Math.min(luminance(foreground), luminance(background(element))) + 0.05);
      const large = parseFloat(style.fontSize) >= 24 || (parseFloat(style.fontSize) >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) failures.push(`${element.tagName.toLowerCase()} "${element.textContent.trim().slice(0, 30)}" contrast ${ratio.toFixed(2)}:1`);
    }
    return failures;
  });
}

/**
 * Presses Tab until `selector` has focus (as a keyboard user would reach it) and returns its focus
 * outline, or throws when Tab never reaches it.
 */
export async function tabTo(page, selector) {
  for (let presses = 0; presses < 15; presses++) {
    await page.keyboard.press("Tab");
    const outline = await page.evaluate((wanted) => {
      const active = document.activeElement;
      if (!active || !active.matches(wanted)) return null;
      const style = getComputedStyle(active);
      return { style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
    }, selector);
    if (outline) return outline;
  }
  throw new Error(`Tab never reached ${selector}`);
}
