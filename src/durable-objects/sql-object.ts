import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../bindings";

/**
 * What the counting objects (`RateLimiter`, `Quota`) share: a SQLite schema created on first use,
 * a controllable clock, and an alarm mirrored in memory that wipes the object once it holds
 * nothing. Each subclass keeps its own rule for when to move the alarm (see `setAlarmSoon`).
 */
export abstract class SqlObject extends DurableObject<Bindings> {
  /** `create table if not exists ...` statements, run once per instance before the first query. */
  protected abstract readonly schema: string;
  private schemaReady = false;
  /** The scheduled alarm (ms), mirrored in memory so most calls need no storage round trip. */
  protected alarmAt: number | null = null;
  /** The time source; tests replace it inside runInDurableObject to control windows, periods and expiry. */
  clock: () => number = () => Date.now();

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** Readiness probe: proves the namespace is reachable and its storage answers. */
  async ping(): Promise<"pong"> {
    this.ctx.storage.sql.exec("select 1");
    return "pong";
  }

  protected ensureSchema(): void {
    if (this.schemaReady) return;
    this.ctx.storage.sql.exec(this.schema);
    this.schemaReady = true;
  }

  /** Sets the alarm without awaiting it: the answer is already decided; the output gate persists it. */
  protected setAlarmSoon(at: number): void {
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  /**
   * The end of every `alarm()`: wipes the object when it holds nothing (an idle object costs no
   * storage), else sleeps until `next`, the earliest moment something expires (null: no alarm).
   */
  protected async wipeOrSleepUntil(empty: boolean, next: number | null): Promise<void> {
    this.alarmAt = null;
    if (empty) {
      this.schemaReady = false;
      await this.ctx.storage.deleteAll();
      return;
    }
    if (next === null) return;
    this.alarmAt = next;
    await this.ctx.storage.setAlarm(next);
  }
}
