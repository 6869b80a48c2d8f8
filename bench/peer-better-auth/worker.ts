// The peer of `npm run bench:peer`: better-auth with email and password on D1, configured as its
// documentation shows for Workers, with its defaults (no cookie cache, its own rate limiter).
// POST /peer/migrate creates better-auth's tables; everything else is better-auth's handler.
import { betterAuth, type BetterAuthOptions } from "better-auth";
import { getMigrations } from "better-auth/db/migration";

interface Env {
  DB: D1Database;
  BETTER_AUTH_SECRET: string;
  BETTER_AUTH_URL: string;
}

function optionsOf(env: Env): BetterAuthOptions {
  return {
    database: env.DB,
    secret: env.BETTER_AUTH_SECRET,
    baseURL: env.BETTER_AUTH_URL,
    emailAndPassword: { enabled: true },
    telemetry: { enabled: false },
  };
}

let auth: ReturnType<typeof betterAuth> | undefined;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    if (new URL(request.url).pathname === "/peer/migrate" && request.method === "POST") {
      const { runMigrations } = await getMigrations(optionsOf(env));
      await runMigrations();
      return new Response("migrated\n");
    }
    auth ??= betterAuth(optionsOf(env));
    return auth.handler(request);
  },
} satisfies ExportedHandler<Env>;
