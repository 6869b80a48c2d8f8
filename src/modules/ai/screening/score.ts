import { CLASSES, featureVector, type Model, predict } from "./learned";
import { textViews } from "./normalize";
import type { Category } from "./patterns";
import { ruleEvidence, ruleScore, windowsOf } from "./rules";

export interface ScreeningResult {
  verdict: "allow" | "block";
  /** 0..1: the combined strength of the evidence. */
  score: number;
  categories: Category[];
}

export const DEFAULT_THRESHOLD = 0.5;
/** Rule evidence this strong (an explicit attack pattern) blocks whatever the model says. */
const RULES_DECIDE = 0.9;

/**
 * Scores a text for prompt injection with two halves over the same views of every 4 KB window:
 * rules (patterns.ts, concepts.ts; precise on what they name) and a learned model (learned.ts)
 * that reads the text's features *and* the rules' evidence, so it can both catch phrasings no rule
 * names and discount a rule that fires on an ordinary text. The score is the model's probability
 * of an injection, or the rules' score when that is at least 0.9 (an explicit attack pattern).
 * Categories are the rules' (evidence ≥ 0.3) and, when the model blocks, its most likely category.
 * In five-fold cross-validation on the training data this beat both "rules only" and "the
 * stronger of the two" (docs/ai.md, "Measured quality").
 *
 * Pure (the model is an argument), so the training script measures exactly what the worker runs.
 */
export function screenWith(model: Model, text: string, threshold = DEFAULT_THRESHOLD): ScreeningResult {
  return verdictOf(screenParts(model, text), threshold);
}

export type ScreeningParts = ReturnType<typeof screenParts>;

/** The verdict of both halves' scores (see screenWith). */
export function verdictOf(parts: ScreeningParts, threshold = DEFAULT_THRESHOLD): ScreeningResult {
  const combined = parts.rules >= RULES_DECIDE ? Math.max(parts.rules, parts.learned) : parts.learned;
  const score = Math.round(combined * 1000) / 1000;
  const categories = [...parts.weights.entries()].filter(([, weight]) => weight >= 0.3).sort((a, b) => b[1] - a[1]).map(([category]) => category);
  if (parts.learned >= threshold && parts.learnedCategory && !categories.includes(parts.learnedCategory)) categories.push(parts.learnedCategory);
  return { verdict: score >= threshold ? "block" : "allow", score, categories };
}

/** Both halves' scores of a text: the rules' (and their evidence per category) and the model's. */
export function screenParts(model: Model, text: string) {
  const weights = new Map<Category, number>();
  let discussion = false;
  let learned = 0;
  let learnedCategory: Category | null = null;
  for (const window of windowsOf(text)) {
    const views = textViews(window);
    const evidence = ruleEvidence(window, views);
    for (const [category, weight] of evidence.weights) weights.set(category, Math.max(weights.get(category) ?? 0, weight));
    discussion ||= evidence.discussion;
    const probabilities = predict(model, featureVector(views, evidence));
    const injection = 1 - probabilities[0]!;
    if (injection > learned) {
      learned = injection;
      let best = 1;
      for (let k = 2; k < CLASSES.length; k++) if (probabilities[k]! > probabilities[best]!) best = k;
      learnedCategory = CLASSES[best] as Category;
    }
  }
  return { rules: ruleScore(weights, discussion), learned, learnedCategory, weights };
}
