import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import commonPasswordsText from "../../src/data/common-passwords.txt";
import {
  PASSWORD_MAX_BYTES,
  PASSWORD_MESSAGES,
  assertPasswordAcceptable,
  checkPassword,
  isCommonPassword,
  parsePasswordList,
  passwordField,
  tooShortMessage,
} from "../../src/lib/password-policy";
import { ProblemError } from "../../src/lib/problem";

const policy = { minLength: 8, email: "ada.lovelace@example.com" };
const tooShort = tooShortMessage(8);

describe("checkPassword: length", () => {
  it("refuses 7 characters and accepts 8", () => {
    expect(checkPassword("zq7#Lp2", policy)).toEqual([tooShort]);
    expect(checkPassword("zq7#Lp2w", policy)).toEqual([]);
  });

  it("follows the configured minimum", () => {
    expect(checkPassword("zq7#Lp2wXy4", { minLength: 12 })).toEqual([tooShortMessage(12)]);
    expect(checkPassword("zq7#Lp2wXy4!", { minLength: 12 })).toEqual([]);
  });

  it("counts an emoji as one character, not two UTF-16 units", () => {
    expect("🔐".repeat(7)).toHaveLength(14);
    expect(checkPassword("🔐".repeat(7), policy)).toEqual([tooShort]);
    expect(checkPassword("🔐".repeat(8), policy)).toEqual([]);
    expect(checkPassword("ab🔐cd🔐e", policy)).toEqual([tooShort]); // 9 UTF-16 units, 7 characters
  });

  it("allows 64 characters and more", () => {
    const sixtyFour = "correct horse battery staple, purple monkey dishwasher, 1234567!";
    expect([...sixtyFour]).toHaveLength(64);
    expect(checkPassword(sixtyFour, policy)).toEqual([]);
    expect(checkPassword(`${sixtyFour} and then some more words`, policy)).toEqual([]);
  });

  it("allows exactly 1024 UTF-8 bytes and refuses 1025", () => {
    expect(checkPassword("x".repeat(1024), policy)).toEqual([]);
    expect(checkPassword("x".repeat(1025), policy)).toEqual([PASSWORD_MESSAGES.tooLong]);
    // Bytes, not characters: 512 two-byte characters are 1024 bytes; one more ASCII byte is too many.
    expect(checkPassword("é".repeat(512), policy)).toEqual([]);
    expect(checkPassword(`${"é".repeat(512)}a`, policy)).toEqual([PASSWORD_MESSAGES.tooLong]);
    expect(checkPassword("🔐".repeat(256), policy)).toEqual([]);
    expect(checkPassword(`${"🔐".repeat(256)}a`, policy)).toEqual([PASSWORD_MESSAGES.tooLong]);
  });
});

describe("checkPassword: content", () => {
  it("has no composition rules", () => {
    for (const password of ["alllowercaseletters", "ALLUPPERCASELETTERS", "8294716305", "        spaces only?"]) {
      expect(checkPassword(password, policy), password).toEqual([]);
    }
  });

  it("refuses common passwords, whatever their case", () => {
    for (const password of ["password", "12345678", "qwertyuiop", "iloveyou", "Password", "PASSWORD", "QwErTyUiOp"]) {
      expect(checkPassword(password, policy), password).toEqual([PASSWORD_MESSAGES.common]);
    }
    expect(checkPassword("123456", policy)).toEqual([tooShort, PASSWORD_MESSAGES.common]);
  });

  it("checks the list exactly as typed otherwise: spaces make a different password", () => {
    expect(isCommonPassword("password")).toBe(true);
    expect(isCommonPassword(" password")).toBe(false);
    expect(isCommonPassword("password ")).toBe(false);
    expect(checkPassword(" password ", policy)).toEqual([]);
  });

  it("refuses the email address, compared as emails are (trim, NFKC, case-insensitive)", () => {
    expect(checkPassword("ada.lovelace@example.com", policy)).toEqual([PASSWORD_MESSAGES.sameAsEmail]);
    expect(checkPassword("Ada.Lovelace@Example.COM", policy)).toEqual([PASSWORD_MESSAGES.sameAsEmail]);
    expect(checkPassword(" ada.lovelace@example.com ", policy)).toEqual([PASSWORD_MESSAGES.sameAsEmail]);
    expect(checkPassword("ａｄａ.lovelace@example.com", policy)).toEqual([PASSWORD_MESSAGES.sameAsEmail]); // full-width
    expect(checkPassword("ada.lovelace@example.com", { ...policy, email: "  ADA.lovelace@EXAMPLE.com" })).toEqual([
      PASSWORD_MESSAGES.sameAsEmail,
    ]);
    expect(checkPassword("ada.lovelace@example.org", policy)).toEqual([]);
    expect(checkPassword("ada.lovelace@example.com", { minLength: 8 })).toEqual([]);
  });

  it("refuses unpaired surrogates, which have no UTF-8 form", () => {
    expect(checkPassword("valid-looking\ud800", policy)).toEqual([PASSWORD_MESSAGES.malformed]);
    expect(checkPassword("\udfffvalid-looking", policy)).toEqual([PASSWORD_MESSAGES.malformed]);
    expect(checkPassword("valid-looking\ud83d\udd10", policy)).toEqual([]); // a proper pair (🔐)
  });

  it("reports every broken rule at once", () => {
    expect(checkPassword("a@b.co", { minLength: 8, email: "A@B.CO" })).toEqual([tooShort, PASSWORD_MESSAGES.sameAsEmail]);
  });
});

describe("the common-password list", () => {
  const entries = parsePasswordList(commonPasswordsText);

  it("skips the comment lines of its header", () => {
    expect(commonPasswordsText.startsWith("# ")).toBe(true);
    expect(entries.some((entry) => entry.startsWith("#"))).toBe(false);
    expect(parsePasswordList("# comment\r\n123456\r\n\npassword\n")).toEqual(["123456", "password"]);
  });

  it("ships at least the 10,000 most common passwords, without duplicates or blanks", () => {
    expect(entries.length).toBeGreaterThanOrEqual(10_000);
    expect(new Set(entries).size).toBe(entries.length);
    expect(entries.every((entry) => entry.length > 0 && entry.trim() === entry)).toBe(true);
    expect(entries.slice(0, 4)).toEqual(["123456", "password", "12345678", "qwerty"]);
  });

  it("has every listed password refused by the policy (by length or by the list)", () => {
    for (const entry of entries) {
      const messages = checkPassword(entry, { minLength: 8 });
      expect(messages.includes(PASSWORD_MESSAGES.common), entry).toBe(true);
    }
  });

  it("holds at least 10,000 entries that the length rule alone would let through", () => {
    expect(entries.filter((entry) => [...entry].length >= 8).length).toBeGreaterThanOrEqual(10_000);
  });
});

describe("assertPasswordAcceptable", () => {
  it("passes an acceptable password", () => {
    expect(() => assertPasswordAcceptable("zq7#Lp2w", policy)).not.toThrow();
  });

  it("throws a 422 validation problem naming the field once per broken rule", () => {
    let thrown: unknown;
    try {
      assertPasswordAcceptable("Passw0rd", { minLength: 12 }, "new_password");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ProblemError);
    const problem = thrown as ProblemError;
    expect(problem.code).toBe("validation_failed");
    expect(problem.status).toBe(422);
    expect(problem.init.errors).toEqual([
      { path: "body.new_password", message: tooShortMessage(12) },
      { path: "body.new_password", message: PASSWORD_MESSAGES.common },
    ]);
  });
});

describe("passwordField", () => {
  const field = passwordField();

  it("accepts any non-empty password up to 1024 bytes, unchanged", () => {
    expect(field.parse("  Pa\u0308ssword  ")).toBe("  Pa\u0308ssword  ");
    expect(field.parse("x")).toBe("x"); // the policy is the service's job: login takes old passwords
    expect(field.safeParse("€".repeat(341) + "a").success).toBe(true); // 1024 bytes
  });

  it("refuses empty, non-string and over-long values before anything is hashed", () => {
    expect(field.safeParse("").success).toBe(false);
    expect(field.safeParse(null).success).toBe(false);
    expect(field.safeParse(12345678).success).toBe(false);
    expect(field.safeParse("x".repeat(PASSWORD_MAX_BYTES + 1)).success).toBe(false);
    // 342 characters, 1026 bytes: under a character limit, over the byte limit.
    const multibyte = field.safeParse("€".repeat(342));
    expect(multibyte.success).toBe(false);
    expect(multibyte.error?.issues.map((issue) => issue.message)).toEqual([PASSWORD_MESSAGES.tooLong]);
  });

  it("documents itself in OpenAPI as a password of at most 1024 characters", () => {
    const app = new OpenAPIHono();
    const body = z.object({ password: passwordField("The current password") }).openapi("PasswordProbe");
    app.openapi(
      createRoute({
        method: "post",
        path: "/probe",
        request: { body: { content: { "application/json": { schema: body } } } },
        responses: { 204: { description: "ok" } },
      }),
      (c) => c.body(null, 204),
    );
    const document = app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "probe", version: "1" } });
    expect(document.components?.schemas?.PasswordProbe).toMatchObject({
      properties: {
        password: { type: "string", format: "password", minLength: 1, maxLength: PASSWORD_MAX_BYTES, description: "The current password" },
      },
      required: ["password"],
    });
  });
});
