import { describe, expect, it } from "vitest";
import { normalizeEmail } from "../../src/lib/email";
import { EmailSchema } from "../../src/modules/auth/auth.schemas";

describe("normalizeEmail", () => {
  it("lower-cases and trims", () => {
    expect(normalizeEmail("  Alice@EXAMPLE.com ")).toBe("alice@example.com");
    expect(normalizeEmail("\tBOB@Example.ORG\n")).toBe("bob@example.org");
  });

  it("folds full-width and compatibility forms with NFKC", () => {
    expect(normalizeEmail("ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ")).toBe("alice@example.com");
    expect(normalizeEmail("ＡＬＩＣＥ@example.com")).toBe("alice@example.com");
    // U+FB01 LATIN SMALL LIGATURE FI and U+2160 ROMAN NUMERAL ONE.
    expect(normalizeEmail("\uFB01nance@example.com")).toBe("finance@example.com");
    expect(normalizeEmail("agent\u2160@example.com")).toBe("agenti@example.com");
  });

  it("trims Unicode whitespace, including the ideographic space and no-break space", () => {
    expect(normalizeEmail("\u3000alice@example.com\u00A0")).toBe("alice@example.com");
  });

  it("composes decomposed accents, so both spellings are one account", () => {
    expect(normalizeEmail("Jose\u0301@example.com")).toBe(normalizeEmail("José@example.com"));
    expect(normalizeEmail("ÉLODIE@example.com")).toBe("élodie@example.com");
  });

  it("is idempotent", () => {
    for (const input of ["  Alice@EXAMPLE.com ", "ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "İstanbul@example.com", "ẞ@example.com", "\uFB01@example.com"]) {
      const once = normalizeEmail(input);
      expect(normalizeEmail(once)).toBe(once);
    }
  });

  it("keeps what it cannot fold: inner whitespace and plus tags stay", () => {
    expect(normalizeEmail("a b@example.com")).toBe("a b@example.com");
    expect(normalizeEmail("Alice+Tag@Example.com")).toBe("alice+tag@example.com");
  });
});

describe("EmailSchema (validates the normalized form)", () => {
  it("accepts addresses that only normalize to a valid one", () => {
    expect(EmailSchema.safeParse(" Alice@Example.com ").success).toBe(true);
    expect(EmailSchema.safeParse("ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ").success).toBe(true);
  });

  it("refuses what is not an address", () => {
    for (const input of ["", "alice", "alice@", "@example.com", "a b@example.com", "alice@example", `${"a".repeat(250)}@example.com`]) {
      expect(EmailSchema.safeParse(input).success, input).toBe(false);
    }
  });
});
