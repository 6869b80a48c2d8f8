import { generateKeyPairSync, randomBytes } from "node:crypto";
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/** A fresh Ed25519 signing key per run: tests never depend on a committed secret. */
function testSigningKey(kid: string) {
  const { privateKey } = generateKeyPairSync("ed25519");
  return { ...privateKey.export({ format: "jwk" }), kid, alg: "EdDSA" };
}

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "drizzle"));
  return {
    plugins: [
      cloudflareTest({
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            ENVIRONMENT: "test",
            PUBLIC_BASE_URL: "http://localhost",
            CORS_ORIGINS: "https://app.example.com,http://localhost:3000",
            LOG_LEVEL: "error",
            // Production rate-limit defaults in tests (wrangler.toml relaxes per-IP limits for local dev).
            RATE_LIMIT_OVERRIDES: "{}",
            JWT_SIGNING_KEYS: JSON.stringify([testSigningKey("test-key-1")]),
            FILE_LINK_SECRET: randomBytes(32).toString("base64url"),
            API_KEY_SECRET: randomBytes(32).toString("base64url"),
            RATE_LIMIT_SECRET: randomBytes(32).toString("base64url"),
            // Two keys, as after a rotation: the first encrypts TOTP secrets, both decrypt.
            MFA_ENCRYPTION_KEYS: JSON.stringify([
              { kid: "test-mfa-2", key: randomBytes(32).toString("base64url") },
              { kid: "test-mfa-1", key: randomBytes(32).toString("base64url") },
            ]),
            // Cheap argon2 for tests only; staging and production refuse these (see src/env.ts).
            ARGON2_MEMORY_KIB: "64",
            ARGON2_ITERATIONS: "1",
            BOOTSTRAP_ADMIN_EMAIL: "admin@example.com",
            BOOTSTRAP_ADMIN_PASSWORD: "bootstrap-admin-password-for-tests",
          },
        },
      }),
    ],
    test: {
      setupFiles: ["./test/helpers/apply-migrations.ts", "./test/helpers/check-content-types.ts"],
      include: ["test/**/*.test.ts"],
      // Generous: on a 2-core machine under load the workerd setup alone can take seconds. Timeouts
      // are not assertions here; performance is measured in `npm run bench`.
      testTimeout: 30_000,
      hookTimeout: 60_000,
      coverage: {
        provider: "istanbul" as const,
        include: ["src/**/*.ts"],
        exclude: ["src/**/*.d.ts"],
        reporter: ["text-summary", "json-summary"],
        thresholds: { lines: 80, branches: 80 },
      },
    },
  };
});
