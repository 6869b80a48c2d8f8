/**
 * Chaos mode for local runs: `FAULTS=d1:0.05,r2:0.02,d1.slow:0.1` makes that share of calls to a
 * dependency fail (or, with `.slow`, wait FAULTS_DELAY_MS first) the way the real dependency
 * fails, so the load test and the tests can show what users see during an outage. Parsed and
 * checked with the rest of the configuration (src/env.ts), which refuses it outside development.
 */
export const faultTargets = ["d1", "r2", "do", "queue", "ai"] as const;
export type FaultTarget = (typeof faultTargets)[number];

export interface FaultRule {
  target: FaultTarget;
  mode: "error" | "slow";
  probability: number;
}

export type FaultPlan = readonly FaultRule[];

const RULE = /^(d1|r2|do|queue|ai)(?:\.(error|slow))?:(0(?:\.\d+)?|1(?:\.0+)?)$/;

/**
 * Parses `target[.mode]:probability` items separated by commas.
 *
 * @example parseFaults("d1:0.05,r2.slow:1") // [{target:"d1",mode:"error",probability:0.05},{target:"r2",mode:"slow",probability:1}]
 */
export function parseFaults(text: string): { ok: true; plan: FaultPlan } | { ok: false; problem: string } {
  const plan: FaultRule[] = [];
  for (const item of text.split(",").map((part) => part.trim()).filter((part) => part !== "")) {
    const match = RULE.exec(item);
    if (!match) {
      return { ok: false, problem: `"${item}" is not target[.error|.slow]:probability with target one of ${faultTargets.join(", ")} and probability in [0, 1]` };
    }
    plan.push({ target: match[1] as FaultTarget, mode: (match[2] as "error" | "slow" | undefined) ?? "error", probability: Number(match[3]) });
  }
  return { ok: true, plan };
}

/** The error each dependency throws when it is down; `app.ts` maps these messages to 503. */
const FAULT_MESSAGES: Record<FaultTarget, string> = {
  d1: "D1_ERROR: Network connection lost. (injected fault)",
  r2: "R2 bucket unavailable (injected fault)",
  do: "Durable Object is overloaded (injected fault)",
  queue: "Queue send failed: binding unavailable (injected fault)",
  ai: "AI provider timeout (injected fault)",
};

/** An error that looks like the real outage of `target`. */
export function injectedFault(target: FaultTarget): Error {
  return new Error(FAULT_MESSAGES[target]);
}

/**
 * Applies the plan to one call: throws the target's outage error, or waits `delayMs`, with the
 * rule's probability; does nothing when no rule names the target.
 */
export async function applyFaults(plan: FaultPlan, target: FaultTarget, delayMs: number, random: () => number = Math.random): Promise<void> {
  for (const rule of plan) {
    if (rule.target !== target || random() >= rule.probability) continue;
    if (rule.mode === "slow") await new Promise((resolve) => setTimeout(resolve, delayMs));
    else throw injectedFault(target);
  }
}
