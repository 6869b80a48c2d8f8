import { z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/env";
import { clientIp, UNKNOWN_CLIENT_IP } from "../../src/lib/client-ip";
import { normalizeEmail } from "../../src/lib/email";
import { rateLimitField, rateLimitHeaders, rateLimitPolicyField } from "../../src/lib/rate-limit/headers";
import { ipBucket, partitionName } from "../../src/lib/rate-limit/keys";
import { withRateLimit } from "../../src/lib/rate-limit/openapi";
import { rateLimitOverrideProblems, rateLimitPolicies, resolvePolicies } from "../../src/lib/rate-limit/policies";

describe("RateLimit fields (draft-ietf-httpapi-ratelimit-headers-10)", () => {
  const login = { policy: "login", limit: 5, window: 900, remaining: 2, reset: 412 };

  it("formats the draft's own examples", () => {
    expect(rateLimitPolicyField([login])).toBe('"login";q=5;w=900');
    expect(rateLimitField([login])).toBe('"login";r=2;t=412');
  });

  it("lists several policies as one Structured Fields list, omitting t when nothing is counted", () => {
    const idle = { policy: "burst", limit: 100, window: 60, remaining: 100, reset: null };
    expect(rateLimitHeaders([login, idle])).toEqual({
      "RateLimit-Policy": '"login";q=5;w=900, "burst";q=100;w=60',
      RateLimit: '"login";r=2;t=412, "burst";r=100',
    });
    expect(rateLimitHeaders([])).toEqual({});
  });

  it("keeps values valid sf-strings and non-negative integers", () => {
    expect(rateLimitField([{ ...login, policy: 'a"b\\c', remaining: -3, reset: 1.7 }])).toBe('"a\\"b\\\\c";r=0;t=1');
  });
});

describe("normalizeEmail", () => {
  it("trims, folds compatibility forms (NFKC) and lower-cases", () => {
    expect(normalizeEmail("  Alice@EXAMPLE.com\t")).toBe("alice@example.com");
    expect(normalizeEmail("ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ")).toBe("alice@example.com");
    // The Kelvin sign folds to K, then k.
    expect(normalizeEmail("\u212Aate@example.com")).toBe("kate@example.com");
  });

  it("is idempotent", () => {
    for (const email of ["İstanbul@Example.com", "ẞig@example.com", " ＡＢＣ@x.io ", "ﬁle@example.com"]) {
      expect(normalizeEmail(normalizeEmail(email))).toBe(normalizeEmail(email));
    }
  });
});

describe("clientIp", () => {
  const request = (headers: Record<string, string>) => new Request("http://localhost/", { headers });

  it("reads CF-Connecting-IP only", () => {
    expect(clientIp(request({ "CF-Connecting-IP": "203.0.113.7" }))).toBe("203.0.113.7");
    expect(clientIp(request({ "CF-Connecting-IP": "2001:DB8::1" }))).toBe("2001:db8::1");
  });

  it("never trusts X-Forwarded-For, X-Real-IP or True-Client-IP", () => {
    const spoofed = { "X-Forwarded-For": "198.51.100.1", "X-Real-IP": "198.51.100.2", "True-Client-IP": "198.51.100.3" };
    expect(clientIp(request(spoofed))).toBe(UNKNOWN_CLIENT_IP);
    expect(clientIp(request({ ...spoofed, "CF-Connecting-IP": "203.0.113.9" }))).toBe("203.0.113.9");
  });

  it("treats a malformed value as unknown", () => {
    expect(clientIp(request({ "CF-Connecting-IP": "evil value" }))).toBe(UNKNOWN_CLIENT_IP);
    expect(clientIp(request({ "CF-Connecting-IP": "1".repeat(46) }))).toBe(UNKNOWN_CLIENT_IP);
    expect(clientIp(request({ "CF-Connecting-IP": "1.2.3.4, 5.6.7.8" }))).toBe(UNKNOWN_CLIENT_IP);
  });
});

describe("partition keys", () => {
  it("are SHA-256 hex digests that reveal nothing of the key", async () => {
    const name = await partitionName("email", "alice@example.com");
    expect(name).toMatch(/^[0-9a-f]{64}$/);
    expect(name).not.toContain("alice");
    expect(await partitionName("email", "alice@example.com")).toBe(name);
  });

  it("separate kinds and namespaces", async () => {
    const names = await Promise.all([
      partitionName("email", "x"),
      partitionName("custom", "x"),
      partitionName("email", "x", "quota"),
      partitionName("email:x", ""),
    ]);
    expect(new Set(names).size).toBe(4);
  });

  it("count IPv4 per address and IPv6 per /64", () => {
    expect(ipBucket("203.0.113.7")).toBe("203.0.113.7");
    expect(ipBucket("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:1:2::/64");
    expect(ipBucket("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(ipBucket("2001:DB8:0001:0002:0:0:0:9")).toBe("2001:db8:1:2::/64");
    expect(ipBucket("::1")).toBe("0:0:0:0::/64");
    expect(ipBucket("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(ipBucket("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    // Not parseable: counted as given (still hashed).
    expect(ipBucket("1:2:3")).toBe("1:2:3");
    expect(ipBucket(UNKNOWN_CLIENT_IP)).toBe(UNKNOWN_CLIENT_IP);
  });
});

describe("policy overrides", () => {
  it("apply to the named policy only", () => {
    const policies = resolvePolicies({ RATE_LIMIT_OVERRIDES: { login_account: { limit: 10, window: 600 } } });
    expect(policies.login_account).toMatchObject({ name: "login_account", limit: 10, window: 600, key: "email", failure: "closed", countOnly: [401] });
    expect(policies.login_ip).toMatchObject({ limit: rateLimitPolicies.login_ip.limit, window: rateLimitPolicies.login_ip.window });
  });

  it("reject unknown policies, unknown fields and non-positive numbers", () => {
    expect(rateLimitOverrideProblems({})).toEqual([]);
    expect(rateLimitOverrideProblems({ login_acount: { limit: 1 } })[0]).toMatch(/^RATE_LIMIT_OVERRIDES\.login_acount: unknown rate-limit policy/);
    expect(rateLimitOverrideProblems({ login_ip: { limt: 1 } })).toHaveLength(1);
    expect(rateLimitOverrideProblems({ login_ip: { limit: 0 } })).toHaveLength(1);
    expect(rateLimitOverrideProblems({ login_ip: { window: 1.5 } })).toHaveLength(1);
    expect(rateLimitOverrideProblems({ login_ip: 5 })).toHaveLength(1);
  });

  it("are checked when the configuration is parsed", () => {
    const base = { ENVIRONMENT: "development", PUBLIC_BASE_URL: "http://localhost", JWT_SIGNING_KEYS: JSON.stringify([{ kty: "OKP", crv: "Ed25519", kid: "k", x: "x", d: "d" }]) };
    expect(parseConfig({ ...base, RATE_LIMIT_OVERRIDES: '{"login_ip":{"limit":7}}' }).ok).toBe(true);
    const invalid = parseConfig({ ...base, RATE_LIMIT_OVERRIDES: '{"login_ip":{"limit":-1}}' });
    expect(invalid.ok).toBe(false);
    if (!invalid.ok) expect(invalid.problems.join("\n")).toContain("RATE_LIMIT_OVERRIDES.login_ip.limit");
  });
});

describe("withRateLimit (OpenAPI)", () => {
  it("adds the 429 and the fields to every response, whatever form its headers take", () => {
    const responses = withRateLimit(
      {
        200: { description: "ok", headers: { "X-Request-Id": { schema: { type: "string" } } } },
        201: { description: "zod headers", headers: z.object({ Location: z.string() }) },
        204: { description: "no headers" },
        404: { $ref: "#/components/responses/NotFound" },
      },
      ["login_ip"],
    );
    expect(Object.keys(responses[200].headers)).toEqual(["X-Request-Id", "RateLimit-Policy", "RateLimit"]);
    expect(Object.keys((responses[201].headers as unknown as z.ZodObject).shape)).toEqual(["Location", "RateLimit-Policy", "RateLimit"]);
    expect(Object.keys((responses[204] as { headers?: object }).headers ?? {})).toEqual(["RateLimit-Policy", "RateLimit"]);
    expect(responses[404]).toEqual({ $ref: "#/components/responses/NotFound" });
    expect(responses[429].description).toContain("`login_ip`: 100 per 300 s");
  });
});
