import { defineConfig } from "drizzle-kit";

// Generates SQL migrations from src/db/schema.ts into drizzle/; wrangler applies them to D1.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema.ts",
  out: "./drizzle",
});
