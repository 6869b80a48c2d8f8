// Training and measuring the screener's learned half (used by scripts/train-screener.ts).
//
// The model: multinomial logistic regression (benign + seven categories) over the hashed features
// of learned.ts, trained with AdaGrad and L2 in a fixed order, so the same data gives the same file.
// Features seen in fewer than `minTexts` training texts are dropped: they can only memorise.
import { existsSync, readFileSync } from "node:fs";
import { CLASS_COUNT, CLASSES, decodeModel, encodeModel, featureVector, type Model } from "../src/modules/ai/screening/learned";
import { textViews } from "../src/modules/ai/screening/normalize";
import type { Category } from "../src/modules/ai/screening/patterns";
import { ruleEvidence, ruleScore, windowsOf } from "../src/modules/ai/screening/rules";
import { DEFAULT_THRESHOLD, screenParts, verdictOf } from "../src/modules/ai/screening/score";

export interface Entry {
  id: string;
  text: string;
  label: "injection" | "benign";
  category: string;
  hard_negative: boolean;
}

export interface TrainingOptions {
  epochs: number;
  learningRate: number;
  l2: number;
  /** Features seen in fewer training texts than this are dropped. */
  minTexts: number;
  /** How much more a hard negative's error counts than another text's. */
  hardNegativeWeight: number;
  /**
   * Added to the benign class's bias after training. The training sets are half injections; real
   * traffic is not, and a text with no evidence either way must come out benign.
   */
  benignPrior: number;
}

export const DEFAULT_OPTIONS: TrainingOptions = { epochs: 40, learningRate: 0.4, l2: 2e-5, minTexts: 2, hardNegativeWeight: 2, benignPrior: 0.5 };
const FIXTURES = "test/fixtures/screening";
/** Everything the model learns from; the held-out sets are never among them. */
export const TRAINING_SETS = ["labelled.json", "train-extra.json", "train-extra-2.json", "train-short.json", "train-code.json"];

export const load = (name: string): Entry[] => (existsSync(`${FIXTURES}/${name}`) ? (JSON.parse(readFileSync(`${FIXTURES}/${name}`, "utf8")) as Entry[]) : []);

export interface Example {
  vector: Map<number, number>;
  target: number;
  hardNegative: boolean;
}

/** One example per text: its window with the strongest rule evidence (most texts are one window). */
export function example(entry: Entry): Example {
  let best: { vector: Map<number, number>; score: number } | null = null;
  for (const window of windowsOf(entry.text)) {
    const views = textViews(window);
    const evidence = ruleEvidence(window, views);
    const score = ruleScore(evidence.weights, evidence.discussion);
    if (!best || score > best.score) best = { vector: featureVector(views, evidence), score };
  }
  const target = entry.label === "benign" ? 0 : CLASSES.indexOf(entry.category as Category);
  if (target < 0) throw new Error(`${entry.id}: unknown category ${entry.category}`);
  return { vector: best!.vector, target, hardNegative: entry.hard_negative };
}

/** Deterministic shuffle (mulberry32), so a run is reproducible. */
export function shuffled<T>(items: T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}

export function train(examples: Example[], options: TrainingOptions = DEFAULT_OPTIONS): Model {
  const { epochs, learningRate, l2, minTexts, hardNegativeWeight, benignPrior } = options;
  const textsPerFeature = new Map<number, number>();
  for (const { vector } of examples) for (const hash of vector.keys()) textsPerFeature.set(hash, (textsPerFeature.get(hash) ?? 0) + 1);
  const hashes = Uint32Array.from([...textsPerFeature].filter(([, texts]) => texts >= minTexts).map(([hash]) => hash)).sort();
  const indexOf = new Map<number, number>();
  hashes.forEach((hash, index) => indexOf.set(hash, index));
  const weights = new Float32Array(hashes.length * CLASS_COUNT);
  const squared = new Float32Array(hashes.length * CLASS_COUNT);
  const bias = new Float32Array(CLASS_COUNT);
  const biasSquared = new Float32Array(CLASS_COUNT);
  const rows = examples.map(({ vector, target, hardNegative }) => ({
    features: [...vector].flatMap(([hash, value]) => (indexOf.has(hash) ? [[indexOf.get(hash)!, value] as const] : [])),
    target,
    weight: hardNegative ? hardNegativeWeight : 1,
  }));

  const logits = new Float64Array(CLASS_COUNT);
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const { features, target, weight } of shuffled(rows, epoch + 1)) {
      logits.set(bias);
      for (const [index, value] of features) for (let k = 0; k < CLASS_COUNT; k++) logits[k]! += weights[index * CLASS_COUNT + k]! * value;
      const top = Math.max(...logits);
      let sum = 0;
      for (let k = 0; k < CLASS_COUNT; k++) sum += logits[k] = Math.exp(logits[k]! - top);
      for (let k = 0; k < CLASS_COUNT; k++) {
        const error = weight * (logits[k]! / sum - (k === target ? 1 : 0));
        biasSquared[k]! += error * error;
        bias[k]! -= (learningRate * error) / Math.sqrt(biasSquared[k]! + 1e-8);
        for (const [index, value] of features) {
          const slot = index * CLASS_COUNT + k;
          const gradient = error * value + l2 * weights[slot]!;
          squared[slot]! += gradient * gradient;
          weights[slot]! -= (learningRate * gradient) / Math.sqrt(squared[slot]! + 1e-8);
        }
      }
    }
  }
  bias[0]! += benignPrior;
  return { hashes, weights, bias };
}

export interface Tally {
  injections: number;
  benign: number;
  hard: number;
  truePositives: number;
  falsePositives: number;
  hardFalsePositives: number;
  /** Injections the rules alone (score ≥ 0.5, the screener before the model) catch. */
  byRules: number;
}

/** What the whole screener (rules and model, as the worker runs them) does on a labelled set. */
export function tally(model: Model, entries: Entry[]): Tally {
  const counts: Tally = { injections: 0, benign: 0, hard: 0, truePositives: 0, falsePositives: 0, hardFalsePositives: 0, byRules: 0 };
  for (const entry of entries) {
    const parts = screenParts(model, entry.text);
    const blocked = verdictOf(parts).verdict === "block";
    if (entry.label === "injection") {
      counts.injections++;
      if (blocked) counts.truePositives++;
      if (parts.rules >= DEFAULT_THRESHOLD) counts.byRules++;
    } else {
      counts.benign++;
      if (entry.hard_negative) counts.hard++;
      if (blocked) counts.falsePositives++;
      if (blocked && entry.hard_negative) counts.hardFalsePositives++;
    }
  }
  return counts;
}

export function addTallies(tallies: Tally[]): Tally {
  const sum: Tally = { injections: 0, benign: 0, hard: 0, truePositives: 0, falsePositives: 0, hardFalsePositives: 0, byRules: 0 };
  for (const counts of tallies) for (const key of Object.keys(sum) as (keyof Tally)[]) sum[key] += counts[key];
  return sum;
}

/** Precision, recall and false-positive rates, and what the rules alone catch. */
export function describeTally(counts: Tally): string {
  const { injections, benign, hard, truePositives, falsePositives, hardFalsePositives, byRules } = counts;
  const flagged = truePositives + falsePositives;
  return (
    `${injections} / ${benign} (${hard}): precision ${(truePositives / Math.max(1, flagged)).toFixed(3)} (${truePositives} of ${flagged}), ` +
    `recall ${(truePositives / Math.max(1, injections)).toFixed(3)} (${truePositives} of ${injections}; rules alone ${byRules}), ` +
    `FPR ${(falsePositives / Math.max(1, benign)).toFixed(3)}, hard-negative FPR ${(hardFalsePositives / Math.max(1, hard)).toFixed(3)} (${hardFalsePositives} of ${hard})`
  );
}
