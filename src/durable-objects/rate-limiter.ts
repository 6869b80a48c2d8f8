import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../env";

/** One object per limited key. The limiter itself arrives with the rate-limit work. */
export class RateLimiter extends DurableObject<Bindings> {
  /** Readiness probe: proves the namespace is reachable and its storage answers. */
  async ping(): Promise<"pong"> {
    this.ctx.storage.sql.exec("select 1");
    return "pong";
  }
}
