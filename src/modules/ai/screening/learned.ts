/**
 * The learned half of the screener: a multinomial logistic regression over hashed text features
 * (words, word pairs, character 4-grams) and the rule screener's evidence per category. Rules are
 * precise on what they have patterns for; the model generalises to phrasings no pattern names
 * ("the guidelines above were for a different client"). It is trained offline by
 * `npm run train:screener` (scripts/train-screener.ts) on test/fixtures/screening/labelled.json and
 * the train-*.json files, never on the held-out sets, and ships as `model.txt` (see `decodeModel`).
 *
 * Pure functions only: the training script and the worker share this file, so a feature means the
 * same thing in both.
 */
import { categories } from "./patterns";
import type { TextViews } from "./normalize";
import type { RuleEvidence } from "./rules";

/** Class 0 is benign; classes 1..7 are the injection categories in `categories` order. */
export const CLASSES = ["benign", ...categories] as const;
export const CLASS_COUNT = CLASSES.length;

/** Feature hashes are FNV-1a (32-bit) of a prefixed string: "w:" word, "b:" pair, "c:" 4-gram, "r:" rule. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

const WORD = /[\p{L}\p{N}]+|[<>[\]{}|#@$%*=/\\:;!?`~^]+/gu;
/** Texts with fewer distinct features are scaled as if they had this many (see featureVector). */
const MIN_FEATURES = 48;
/** Cap per window so a 4 KB window costs the same whatever it holds. */
const MAX_WORDS = 800;

/**
 * The sparse feature vector of one text window: hashed text features with value 1, scaled to unit
 * length, then the rule evidence per category (its weight, unscaled), whether the rules took
 * the window for a text about attacks, and its everyday contexts (software, a how-to question,
 * code). Decoded views (base64, look-alikes folded, spacing removed) add their words and pairs, so a
 * hidden instruction lands on the same features as a plain one.
 */
export function featureVector(views: TextViews, evidence: RuleEvidence): Map<number, number> {
  const hashes = new Set<number>();
  const addWords = (text: string) => {
    const words = (text.match(WORD) ?? []).slice(0, MAX_WORDS);
    for (let index = 0; index < words.length; index++) {
      hashes.add(fnv1a(`w:${words[index]}`));
      if (index > 0) hashes.add(fnv1a(`b:${words[index - 1]} ${words[index]}`));
    }
  };
  addWords(views.plain);
  for (const view of views.decoded) addWords(view);
  const padded = ` ${views.plain.slice(0, 4096)} `;
  for (let index = 0; index + 4 <= padded.length; index++) hashes.add(fnv1a(`c:${padded.slice(index, index + 4)}`));

  const vector = new Map<number, number>();
  // Unit length, except that a short text's few features are not blown up to the weight of a
  // long text's many: "Hello" alone must not look like anything.
  const scale = 1 / Math.sqrt(Math.max(hashes.size, MIN_FEATURES));
  for (const hash of hashes) vector.set(hash, scale);
  for (const category of categories) {
    const weight = evidence.weights.get(category) ?? 0;
    if (weight > 0) vector.set(fnv1a(`r:${category}`), weight);
  }
  if (evidence.discussion) vector.set(fnv1a("r:discussion"), 1);
  for (const [name, present] of Object.entries(evidence.context)) if (present) vector.set(fnv1a(`r:${name}`), 1);
  return vector;
}

/** A trained model: weights per class for each known feature hash (sorted), and a bias per class. */
export interface Model {
  hashes: Uint32Array;
  /** `weights[i * CLASS_COUNT + k]`: feature `hashes[i]`'s weight for class k. */
  weights: Float32Array;
  bias: Float32Array;
}

function findFeature(hashes: Uint32Array, hash: number): number {
  let low = 0;
  let high = hashes.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const value = hashes[middle]!;
    if (value === hash) return middle;
    if (value < hash) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}

/** Class probabilities (softmax) of a feature vector. */
export function predict(model: Model, vector: ReadonlyMap<number, number>): Float32Array {
  const logits = Float32Array.from(model.bias);
  for (const [hash, value] of vector) {
    const index = findFeature(model.hashes, hash);
    if (index < 0) continue;
    const base = index * CLASS_COUNT;
    for (let k = 0; k < CLASS_COUNT; k++) logits[k]! += model.weights[base + k]! * value;
  }
  const top = Math.max(...logits);
  let sum = 0;
  for (let k = 0; k < CLASS_COUNT; k++) sum += logits[k] = Math.exp(logits[k]! - top);
  for (let k = 0; k < CLASS_COUNT; k++) logits[k]! /= sum;
  return logits;
}

/**
 * model.txt is base64 of: "SCR1", feature count n (uint32 LE), weight scale (float32 LE), the
 * biases (CLASS_COUNT float32), n sorted feature hashes (uint32 LE), n × CLASS_COUNT int8 weights
 * (weight = int8 × scale). Int8 keeps the file small; the training script measures the model
 * after this rounding.
 */
export function encodeModel(model: Model): string {
  const count = model.hashes.length;
  let largest = 0;
  for (const weight of model.weights) largest = Math.max(largest, Math.abs(weight));
  const scale = largest === 0 ? 1 : largest / 127;
  const bytes = new Uint8Array(12 + CLASS_COUNT * 4 + count * 4 + count * CLASS_COUNT);
  const view = new DataView(bytes.buffer);
  bytes.set([0x53, 0x43, 0x52, 0x31]);
  view.setUint32(4, count, true);
  view.setFloat32(8, scale, true);
  let offset = 12;
  for (const bias of model.bias) (view.setFloat32(offset, bias, true), (offset += 4));
  for (const hash of model.hashes) (view.setUint32(offset, hash, true), (offset += 4));
  for (const weight of model.weights) view.setInt8(offset++, Math.max(-127, Math.min(127, Math.round(weight / scale))));
  let binary = "";
  for (let start = 0; start < bytes.length; start += 0x8000) binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000));
  return btoa(binary);
}

export function decodeModel(encoded: string): Model {
  const binary = atob(encoded.trim());
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  const view = new DataView(bytes.buffer);
  if (binary.slice(0, 4) !== "SCR1") throw new Error("screening model: unknown format");
  const count = view.getUint32(4, true);
  const scale = view.getFloat32(8, true);
  let offset = 12;
  const bias = new Float32Array(CLASS_COUNT);
  for (let k = 0; k < CLASS_COUNT; k++, offset += 4) bias[k] = view.getFloat32(offset, true);
  const hashes = new Uint32Array(count);
  for (let index = 0; index < count; index++, offset += 4) hashes[index] = view.getUint32(offset, true);
  const weights = new Float32Array(count * CLASS_COUNT);
  for (let index = 0; index < weights.length; index++) weights[index] = view.getInt8(offset++) * scale;
  return { hashes, weights, bias };
}
