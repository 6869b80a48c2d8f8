import { DurableObject } from "cloudflare:workers";
import { createDb } from "../db/client";
import type { Bindings } from "../bindings";
import { sealAuditChain, type SealResult } from "../lib/audit";

/** The one object that seals the chain (there must never be two). */
export const AUDIT_SEALER_NAME = "audit-chain";

/**
 * How long after a write the sealer runs: long enough that a burst of audited writes is sealed in
 * one pass, short enough that `GET /audit-logs/verify` rarely sees unsealed rows.
 */
export const SEAL_DELAY_MS = 250;

/**
 * The single sealer of the audit hash chain. Writers insert audit rows unsealed with their change
 * and then call `schedule()`; the alarm seals everything unsealed in seq order (src/lib/audit.ts).
 * Because one object is the only writer of `prev_hash`/`hash`, audited writes never contend for
 * the chain head, and the chain cannot fork. Seals inside this object are serialized in memory.
 */
export class AuditSealer extends DurableObject<Bindings> {
  /** Mirrors whether an alarm is pending, so `schedule()` usually costs no storage operation. */
  private armed = false;
  private running: Promise<SealResult> | null = null;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.armed = (await ctx.storage.getAlarm()) !== null;
    });
  }

  /** Asks for a seal soon. Call it after the batch with the audit rows committed. */
  async schedule(): Promise<void> {
    if (this.armed) return;
    this.armed = true;
    await this.ctx.storage.setAlarm(Date.now() + SEAL_DELAY_MS);
  }

  /** Seals now (after any seal already running) and reports what it did. */
  async seal(): Promise<SealResult> {
    const before = this.running ?? Promise.resolve(null);
    const run = before.catch(() => null).then(() => sealAuditChain(createDb(this.env.DB)));
    this.running = run;
    try {
      return await run;
    } finally {
      if (this.running === run) this.running = null;
    }
  }

  override async alarm(): Promise<void> {
    this.armed = false;
    const result = await this.seal();
    // More than one pass's budget arrived: continue at once rather than wait for another write.
    if (result.remaining > 0) await this.schedule();
  }
}
