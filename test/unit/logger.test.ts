import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger, describeError, redact } from "../../src/lib/logger";
import { captureLogs } from "../helpers/app-env";

describe("redact", () => {
  it("replaces credential-like fields at any depth and keeps the rest", () => {
    const input = {
      email: "a@example.com",
      password: "p",
      newPassword: "p",
      headers: { Authorization: "Bearer x", cookie: "s=1", "x-api-key": "k" },
      tokens: [{ access_token: "a", refresh_token: "r", kind: "bearer" }],
      nested: { client_secret: "c", signature: "sig", reset_link: "https://x/reset?t=1", jwk: { d: "private" } },
      count: 3,
    };
    expect(redact(input)).toEqual({
      email: "a@example.com",
      password: "[redacted]",
      newPassword: "[redacted]",
      headers: { Authorization: "[redacted]", cookie: "[redacted]", "x-api-key": "[redacted]" },
      tokens: "[redacted]",
      nested: { client_secret: "[redacted]", signature: "[redacted]", reset_link: "[redacted]", jwk: "[redacted]" },
      count: 3,
    });
  });

  it("walks arrays of objects", () => {
    expect(redact([{ password: "x", id: 1 }, "plain", null])).toEqual([{ password: "[redacted]", id: 1 }, "plain", null]);
  });

  it("returns primitives unchanged", () => {
    for (const value of ["text", 1, true, null, undefined]) expect(redact(value)).toBe(value);
  });

  it("truncates objects nested deeper than it walks instead of logging them whole", () => {
    let deep: Record<string, unknown> = { password: "deep-secret" };
    for (let level = 0; level < 10; level++) deep = { level: deep };
    const text = JSON.stringify(redact(deep));
    expect(text).not.toContain("deep-secret");
    expect(text).toContain("[truncated]");
  });

  it("does not loop on a circular structure", () => {
    const circular: Record<string, unknown> = { name: "loop" };
    circular.self = circular;
    expect(JSON.stringify(redact(circular))).toContain("[truncated]");
  });
});

describe("createLogger", () => {
  let logs: ReturnType<typeof captureLogs>;
  beforeEach(() => {
    logs = captureLogs();
  });
  afterEach(() => {
    logs.restore();
  });

  it("writes one JSON object per line with timestamp, level, message and base fields", () => {
    createLogger("info", { request_id: "r1" }).info("hello", { answer: 42 });
    expect(logs.lines).toHaveLength(1);
    const [line] = logs.json();
    expect(line).toMatchObject({ level: "info", message: "hello", request_id: "r1", answer: 42 });
    expect(Object.keys(line ?? {}).slice(0, 3)).toEqual(["timestamp", "level", "message"]);
  });

  it("drops lines below the threshold", () => {
    const logger = createLogger("warn");
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    expect(logs.json().map((line) => line.level)).toEqual(["warn", "error"]);
  });

  it("writes debug lines at the debug level", () => {
    createLogger("debug").debug("details");
    expect(logs.json()).toMatchObject([{ level: "debug", message: "details" }]);
  });

  it("redacts fields, including those of a child logger", () => {
    const child = createLogger("info", { request_id: "r1" }).child({ session_token: "t", user_id: "u1" });
    child.info("signed in", { password: "p" });
    const [line] = logs.json();
    expect(line).toMatchObject({ request_id: "r1", user_id: "u1", session_token: "[redacted]", password: "[redacted]" });
  });

  it("does not let a field overwrite the level, message or timestamp", () => {
    createLogger("info").error("real", { level: "debug", message: "forged", timestamp: "yesterday" });
    const [line] = logs.json();
    expect(line).toMatchObject({ level: "error", message: "real" });
    expect(line?.timestamp).not.toBe("yesterday");
  });
});

describe("describeError", () => {
  it("describes an Error with its name, message, stack and cause", () => {
    const error = new TypeError("bad", { cause: "root" });
    expect(describeError(error)).toMatchObject({ error_name: "TypeError", error_message: "bad", stack: expect.stringContaining("TypeError"), cause: "root" });
    expect(describeError(new Error("plain")).cause).toBeUndefined();
  });

  it("describes anything else by its string form", () => {
    expect(describeError("oops")).toEqual({ error_message: "oops" });
  });
});
