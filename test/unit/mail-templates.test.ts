import { describe, expect, it } from "vitest";
import { buildLink, describeTtl } from "../../src/lib/mail/links";
import { escapeHtml, passwordChangedEmail, passwordResetEmail, registrationAttemptEmail, verificationEmail } from "../../src/lib/mail/templates";

const config = { PUBLIC_BASE_URL: "https://auth.example.com" };
const LINK = "https://auth.example.com/verify-email?token=a1B2-c3_D4&next=%2F";

describe("buildLink", () => {
  it("builds from PUBLIC_BASE_URL with encoded parameters", () => {
    expect(buildLink(config, "/verify-email", { token: "a+b/c=d&e" })).toBe("https://auth.example.com/verify-email?token=a%2Bb%2Fc%3Dd%26e");
    expect(buildLink(config, "/login")).toBe("https://auth.example.com/login");
  });

  it("keeps a path prefix of the base URL", () => {
    expect(buildLink({ PUBLIC_BASE_URL: "https://example.com/auth/" }, "/reset-password", { token: "t" })).toBe("https://example.com/auth/reset-password?token=t");
  });

  it.each(["//evil.example/x", "/\\evil.example", "https://evil.example/", "reset", "/reset?token=x", "/reset#x", "/re set"])("refuses the path %j", (path) => {
    expect(() => buildLink(config, path)).toThrow(TypeError);
  });
});

describe("describeTtl", () => {
  it.each([
    [86_400, "24 hours"],
    [172_800, "2 days"],
    [1_800, "30 minutes"],
    [3_600, "1 hour"],
    [5_400, "90 minutes"],
    [60, "1 minute"],
    [90, "2 minutes"],
  ])("%i s reads %j", (seconds, text) => {
    expect(describeTtl(seconds)).toBe(text);
  });
});

describe("templates", () => {
  it("verification: kind, link and lifetime in text and HTML", () => {
    const mail = verificationEmail(LINK, "24 hours");
    expect(mail.kind).toBe("verify_email");
    expect(mail.subject).toMatch(/confirm your email/i);
    expect(mail.text).toContain(LINK);
    expect(mail.text).toContain("24 hours");
    expect(mail.html).toContain(`href="${escapeHtml(LINK)}"`);
    expect(mail.html).toContain("24 hours");
  });

  it("password reset", () => {
    const mail = passwordResetEmail("https://auth.example.com/reset-password?token=xyz", "30 minutes");
    expect(mail.kind).toBe("password_reset");
    expect(mail.text).toContain("https://auth.example.com/reset-password?token=xyz");
    expect(mail.text).toContain("30 minutes");
  });

  it("registration attempt: both links, no token", () => {
    const mail = registrationAttemptEmail("https://auth.example.com/login", "https://auth.example.com/forgot-password");
    expect(mail.kind).toBe("registration_attempt");
    expect(mail.subject).toMatch(/tried to register/);
    expect(mail.text).toContain("https://auth.example.com/login");
    expect(mail.text).toContain("https://auth.example.com/forgot-password");
    expect(mail.html).toContain('href="https://auth.example.com/forgot-password"');
  });

  it("password changed, with and without a reset link", () => {
    expect(passwordChangedEmail().kind).toBe("password_changed");
    expect(passwordChangedEmail().text).not.toContain("http");
    expect(passwordChangedEmail("https://auth.example.com/forgot-password").text).toContain("https://auth.example.com/forgot-password");
  });

  it("escapes whatever a link carries into the HTML", () => {
    const mail = verificationEmail('https://auth.example.com/v?x="><script>alert(1)</script>', "1 hour");
    expect(mail.html).not.toContain("<script>");
    expect(mail.html).not.toContain('"><script');
    expect(mail.html).toContain("&#60;script&#62;");
  });

  it.each(["javascript:alert(1)", "data:text/html,hi", "/relative", "not a url"])("refuses the link %j", (link) => {
    expect(() => verificationEmail(link, "1 hour")).toThrow(TypeError);
    expect(() => registrationAttemptEmail("https://auth.example.com/login", link)).toThrow(TypeError);
  });
});
