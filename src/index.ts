import { createApp } from "./app";
import type { Bindings } from "./env";

export { Quota } from "./durable-objects/quota";
export { RateLimiter } from "./durable-objects/rate-limiter";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Bindings>;
