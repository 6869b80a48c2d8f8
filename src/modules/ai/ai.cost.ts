import type { AiModel } from "./ai.config";

/**
 * Cost in integer micro-dollars: prices are micro-dollars per million tokens, so
 * cost = ceil(tokens × price / 1e6) per direction. Integers add up exactly over millions of
 * rows; a float sum of $0.0000015 charges would not. Rounds up: never under-charge.
 */
export function costMicroUsd(model: Pick<AiModel, "inputMicroUsdPerMtok" | "outputMicroUsdPerMtok">, inputTokens: number, outputTokens: number): number {
  return Math.ceil((inputTokens * model.inputMicroUsdPerMtok) / 1_000_000) + Math.ceil((outputTokens * model.outputMicroUsdPerMtok) / 1_000_000);
}

/** Micro-dollars as the API's USD number (6 decimals at most). */
export const toUsd = (micro: number) => Number((micro / 1_000_000).toFixed(6));

/** USD from the API (roles policy) as micro-dollars. */
export const toMicroUsd = (usd: number) => Math.round(usd * 1_000_000);
