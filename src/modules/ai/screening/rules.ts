import { conceptEvidence } from "./concepts";
import type { TextViews } from "./normalize";
import { type Category, DISCUSSION, features } from "./patterns";

/** Texts are screened in windows this long (with overlap), so the work is linear in the length. */
const WINDOW = 4096;
const OVERLAP = 256;

export function windowsOf(text: string): string[] {
  if (text.length <= WINDOW) return [text];
  const windows: string[] = [];
  for (let start = 0; start < text.length; start += WINDOW - OVERLAP) windows.push(text.slice(start, start + WINDOW));
  return windows;
}

/** Texts about software, where "ignore", "rules" and "filters" are everyday words. */
const SOFTWARE_CONTEXT = /\b(android|iphone|ios|phone|usb|browser|chrome|firefox|windows|macos|router|bios|lessee|lessor|contract|addendum|pursuant|clause|git|gitignore|dockerignore|eslint|tslint|lint(er|ing)?|prettier|regex|sql|typescript|@ts-ignore|css|npm|docker|kubernetes|pytest|jest|compiler|warnings?|linter|firewall rules?|iptables|spam filter|mail filter|excel|spreadsheet)\b/;

/** Questions about how something works: formats, devices, accounts. Attacks rarely ask "how do I". */
const HOW_TO = /\b(how (do|can|should|would) (i|we|you)|how to|what (is|are|does) (the|a|an) |why (does|do|is)|can you explain|explain)\b/;
/** Talk about prompt formats (tokenizers, templates): the tokens are the subject, not a smuggled turn. */
const FORMAT_TALK = /\b(template|tokeni[sz]er|tokens?|tags?|chatml|jinja|model card|tutorial|prompt format)\b/;
const HOW_TO_DAMPENED = new Set<Category>(["delimiter_smuggling", "privilege_claim", "roleplay_jailbreak", "indirect_injection"]);

/** Key phrases with every separator removed: payloads split into fragments ("ig nore prev ious instruc tions"). */
const JOINED = [
  /(ignor|disregard|forget|vergiss|ignorier|oublie|olvida|ignora|dimentica|zignoruj|игнорир|забудь)[a-zа-я]{0,40}(instruc|rules|guideline|regeln|anweisung|consigne|règle|regla|istruzion|instrukc|инструкц|правил)/,
  /(reveal|show|print|output|repeat|zeig|gibdie|affiche|montre|muestra|mostra|pokaż|покажи|выведи)[a-zа-я]{0,20}(systemprompt|systemmessage|hiddenprompt|hiddeninstruction|secretkey|geheim|systemowy|системн)/,
];

/** Whether the span at `index` sits inside quotation marks on its line. */
function quoted(text: string, index: number, length: number): boolean {
  const before = text.slice(Math.max(0, index - 200), index);
  const after = text.slice(index + length, index + length + 200);
  const pairs: Array<[string, string]> = [['"', '"'], ["“", "”"], ["«", "»"], ["'", "'"], ["`", "`"], ["„", "“"], ["「", "」"]];
  return pairs.some(([open, close]) => {
    const opened = before.lastIndexOf(open);
    return opened >= 0 && !before.slice(opened + 1).includes(close === open ? "\n" : close) && after.includes(close);
  });
}

export interface RuleEvidence {
  /** Per category, its strongest feature. */
  weights: Map<Category, number>;
  /** The window is about attacks (training material, defence questions). */
  discussion: boolean;
  /** Contexts that make an everyday reading likely; the model reads them too. */
  context: { software: boolean; howTo: boolean; code: boolean };
}

/** Source code or configuration: assignments, calls, object literals, imports. */
const CODE = /(^|\n)\s*(import|from|const|let|var|def|class|function|return|curl|await|#include|package|public|private)\b|[\w\])]\s*=\s*[[{("'\w]|\w\(|=>|\{\s*"?\w+"?\s*:|;\s*($|\n)/;

/**
 * The rule evidence of one window: per category its strongest feature, and whether the window is
 * *about* attacks (training material, defence questions), where quoted attacks count for little.
 */
export function ruleEvidence(text: string, views: TextViews): RuleEvidence {
  const weights = new Map<Category, number>();
  const discussion = DISCUSSION.test(views.plain);
  const benignContext = SOFTWARE_CONTEXT.test(views.plain);
  const howTo = HOW_TO.test(views.plain) || (FORMAT_TALK.test(views.plain) && views.plain.includes("?"));
  const note = (category: Category, weight: number) => weights.set(category, Math.max(weights.get(category) ?? 0, weight));
  let hiddenMatch = 0;
  for (const feature of features) {
    if (feature.raw) {
      if (feature.pattern.test(text)) note(feature.category, feature.weight);
      continue;
    }
    const match = feature.pattern.exec(views.plain);
    if (match) {
      let weight = feature.weight;
      if (feature.benign?.test(match[0])) weight *= 0.35;
      if (discussion && quoted(views.plain, match.index, match[0].length)) weight *= 0.4;
      else if (discussion) weight *= 0.55;
      if (benignContext) weight *= 0.55;
      if (howTo && HOW_TO_DAMPENED.has(feature.category)) weight *= 0.55;
      note(feature.category, weight);
      continue;
    }
    // Found only once the text is decoded: the hiding is itself evidence.
    for (const view of views.decoded) {
      const hidden = feature.pattern.exec(view);
      if (hidden && !feature.benign?.test(hidden[0])) {
        note(feature.category, feature.weight);
        hiddenMatch = Math.max(hiddenMatch, feature.weight);
        break;
      }
    }
  }
  // Concept combinations, over the plain text and (as obfuscation evidence) the decoded views.
  for (const [category, weight] of conceptEvidence(views.plain)) {
    note(category, weight * (discussion ? 0.5 : 1) * (benignContext ? 0.55 : 1) * (howTo && HOW_TO_DAMPENED.has(category) ? 0.55 : 1));
  }
  for (const view of views.decoded) {
    for (const [category, weight] of conceptEvidence(view)) {
      if ((weights.get(category) ?? 0) >= weight) continue;
      note(category, weight);
      hiddenMatch = Math.max(hiddenMatch, weight);
    }
  }
  // A key phrase readable only once every separator is gone, whose verb the text never spells out.
  for (const pattern of views.joined ? JOINED : []) {
    const match = pattern.exec(views.joined);
    if (match && !views.plain.includes(match[1]!)) {
      note("instruction_override", 0.7);
      hiddenMatch = Math.max(hiddenMatch, 0.7);
    }
  }
  // Spacing, leetspeak and encodings count only through what they hid (hiddenMatch above).
  const { invisible, mixedScriptWords } = views.signals;
  const anyEvidence = weights.size > 0;
  if (hiddenMatch > 0) note("encoded_obfuscation", Math.max(0.6, hiddenMatch));
  if (invisible > 0 && anyEvidence) note("encoded_obfuscation", 0.6);
  if (mixedScriptWords >= 2) note("encoded_obfuscation", anyEvidence ? 0.6 : 0.3);
  return {
    weights,
    discussion: discussion && hiddenMatch === 0,
    context: { software: benignContext, howTo, code: CODE.test(views.plain) },
  };
}

/**
 * The rules' score: categories combine as independent evidence, 1 − Π(1 − wᵢ). One strong signal
 * ("ignore all previous instructions") blocks; weaker ones (a privilege claim, "stay in
 * character") block only together. A text about attacks names several of them; there the
 * strongest single signal decides.
 */
export function ruleScore(weights: ReadonlyMap<Category, number>, discussion: boolean): number {
  if (discussion) return Math.max(0, ...weights.values());
  let keep = 1;
  for (const weight of weights.values()) keep *= 1 - weight;
  return 1 - keep;
}
