/**
 * Views of a text for screening. Attackers hide instructions from naive matching with
 * compatibility characters (full-width letters), zero-width characters, look-alike letters of
 * other scripts, spacing ("i g n o r e"), leetspeak and encodings (base64). Each view undoes one
 * family of tricks; patterns run over every view, and a match found only in a decoded view is
 * itself evidence of obfuscation.
 */

/** Zero-width and invisible formatting characters (ZWSP, ZWNJ, ZWJ, LRM/RLM, word joiner, BOM, soft hyphen, tag characters). */
const INVISIBLE = /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180E\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0]|\uDB40[\uDC00-\uDC7F]/g;

/** Cyrillic and Greek letters that look like Latin ones, folded only inside mixed-script words. */
const HOMOGLYPHS: Record<string, string> = {
  а: "a", в: "b", е: "e", ё: "e", к: "k", м: "m", н: "h", о: "o", р: "p", с: "c", т: "t", у: "y", х: "x", і: "i", ј: "j", ѕ: "s", ԁ: "d", ɡ: "g", һ: "h", ӏ: "l", ԛ: "q", ԝ: "w",
  α: "a", β: "b", ε: "e", η: "n", ι: "i", κ: "k", ν: "v", ο: "o", ρ: "p", τ: "t", υ: "u", χ: "x", ω: "w", ѵ: "v", ı: "i",
};
const HOMOGLYPH_CLASS = new RegExp(`[${Object.keys(HOMOGLYPHS).join("")}]`, "g");

/** Unicode small capitals (not folded by NFKC): "ɪɢɴᴏʀᴇ". */
const SMALL_CAPS: Record<string, string> = {
  ᴀ: "a", ʙ: "b", ᴄ: "c", ᴅ: "d", ᴇ: "e", ꜰ: "f", ɢ: "g", ʜ: "h", ɪ: "i", ᴊ: "j", ᴋ: "k", ʟ: "l", ᴍ: "m", ɴ: "n", ᴏ: "o", ᴘ: "p", ǫ: "q", ʀ: "r", ꜱ: "s", ᴛ: "t", ᴜ: "u", ᴠ: "v", ᴡ: "w", ʏ: "y", ᴢ: "z",
};
const SMALL_CAPS_CLASS = new RegExp(`[${Object.keys(SMALL_CAPS).join("")}]`, "gu");

const LEET: Record<string, string> = { "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", $: "s", "!": "i", "|": "l" };

export interface TextViews {
  /** NFKC, invisible characters removed, lower-case, whitespace collapsed. */
  plain: string;
  /** Other views that differ from `plain` (folded, de-spaced, decoded). */
  decoded: string[];
  /** Signals of obfuscation found while building the views. */
  signals: { invisible: number; mixedScriptWords: number; base64: number; spaced: boolean; leet: boolean };
  /** All separators removed, for split-word payloads; matched only by JOINED_PATTERNS. */
  joined: string;
}

function collapse(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** Letters split by single spaces, dots, dashes or underscores: "i g n o r e" / "i.g.n.o.r.e". */
const SPACED_RUN = /(?:^|(?<=\s))(?:\p{L}[ ._\-*]){3,}\p{L}(?=\s|$|[^\p{L}])/gu;

function despace(text: string): string {
  return text.replace(SPACED_RUN, (run) => run.replace(/[ ._\-*]/g, ""));
}

/** Words mixing Latin with Cyrillic/Greek: fold their look-alikes to Latin. Pure Russian stays Russian. */
function foldMixed(text: string): { text: string; count: number } {
  let count = 0;
  const folded = text.replace(/[\p{L}\p{M}]+/gu, (word) => {
    const latin = /\p{Script=Latin}/u.test(word);
    const other = /[\p{Script=Cyrillic}\p{Script=Greek}]/u.test(word);
    if (!latin || !other) return word;
    count += 1;
    return word.replace(HOMOGLYPH_CLASS, (letter) => HOMOGLYPHS[letter] ?? letter);
  });
  return { text: folded, count };
}

const BASE64_RUN = /(?:[A-Za-z0-9+/]{4}){4,}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?|(?:[A-Za-z0-9_-]{4}){5,}/g;

/** Decodes base64 runs that turn out to be readable text. */
function decodeBase64Runs(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(BASE64_RUN)) {
    const run = match[0];
    if (!/[a-z]/.test(run) || !/[A-Z0-9]/.test(run)) continue;
    try {
      const binary = atob(run.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(run.length / 4) * 4, "="));
      const bytes = Uint8Array.from(binary, (character) => character.charCodeAt(0));
      const decoded = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
      const printable = decoded.replace(/[^\p{L}\p{N}\p{P}\p{Zs}]/gu, "").length / Math.max(1, decoded.length);
      if (printable > 0.9 && /\p{L}{3}/u.test(decoded)) out.push(decoded);
    } catch {
      // Not text: ignore.
    }
    if (out.length >= 8) break;
  }
  return out;
}

const DECODE_CUE = /rot-?13|revers|backward|decod|decipher|unscramble|right to left|à l'envers|al rev[ée]s|rückwärts|umgekehrt|al contrario|de trás para|achterstevoren|od końca|наоборот|задом|задом наперёд|倒着|反过来|逆から|逆順|거꾸로|ters(ten)? oku|tersine/;

const rot13 = (text: string) => text.replace(/[a-z]/g, (c) => String.fromCharCode(((c.charCodeAt(0) - 97 + 13) % 26) + 97));

/** Bytes written out as hex, \u escapes, %XX, binary or decimal groups, and Unicode tag characters, decoded. */
function decodeByteForms(text: string): string[] {
  const out: string[] = [];
  const utf8 = (bytes: number[]) => {
    try {
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(bytes));
    } catch {
      return "";
    }
  };
  for (const match of text.matchAll(/(?:(?:\\x|0x)?[0-9a-f]{2}[\s:,-]?){12,}/gi)) {
    out.push(utf8(match[0].replace(/\\x|0x|[\s:,-]/gi, "").match(/../g)!.map((pair) => parseInt(pair, 16))));
  }
  if (/\\u[0-9a-f]{4}/i.test(text)) out.push(text.replace(/\\u([0-9a-f]{4})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))));
  if (/(%[0-9a-f]{2}){6,}/i.test(text)) {
    try {
      out.push(decodeURIComponent(text.replace(/\+/g, " ")));
    } catch {
      // Not valid percent-encoding.
    }
  }
  for (const match of text.matchAll(/(?:[01]{8}\s*){6,}/g)) out.push(utf8(match[0].trim().split(/\s+/).flatMap((group) => group.match(/[01]{8}/g) ?? []).map((bits) => parseInt(bits, 2))));
  for (const match of text.matchAll(/(?:\b(?:3[2-9]|[4-9]\d|1[01]\d|12[0-6])\b[\s,]+){8,}/g)) out.push(String.fromCharCode(...match[0].trim().split(/[\s,]+/).map(Number)));
  const tags = [...text.matchAll(/\uDB40([\uDC20-\uDC7E])/g)].map((match) => String.fromCharCode(match[1]!.charCodeAt(0) - 0xdc00));
  if (tags.length >= 4) out.push(tags.join(""));
  return out.filter((decoded) => /\p{L}{3}/u.test(decoded));
}

/** Letters split by spaces or punctuation inside words ("ig nore", "i.g.n.o.r.e"): everything joined. */
function joined(text: string): string {
  return text.replace(/[\s._\-*'"“”,]+/g, "");
}

export function textViews(input: string): TextViews {
  const nfkc = input.normalize("NFKC").replace(SMALL_CAPS_CLASS, (letter) => SMALL_CAPS[letter] ?? letter);
  const invisible = nfkc.match(INVISIBLE)?.length ?? 0;
  const visible = nfkc.replace(INVISIBLE, "");
  const plain = collapse(visible.toLowerCase());
  const { text: folded, count: mixedScriptWords } = foldMixed(plain);
  const despaced = despace(folded);
  const leetText = /\p{L}[013457@$!|]\p{L}|[013457@$]\p{L}{2}/u.test(despaced) ? despaced.replace(/(?<=\p{L})[013457@$!|]|[013457@$!|](?=\p{L})/gu, (c) => LEET[c] ?? c) : despaced;
  const base64 = [...decodeBase64Runs(visible), ...decodeByteForms(nfkc)].map((text) => collapse(text.normalize("NFKC").toLowerCase()));
  const short = plain.length <= 4096;
  // ROT13 and reversed text only when the text asks for decoding: they double the work otherwise.
  const puzzle = short && DECODE_CUE.test(plain);
  const decoded = [...new Set([folded, despaced, leetText, ...base64, ...(puzzle ? [rot13(plain), [...plain].reverse().join("")] : [])])].filter((view) => view && view !== plain);
  return {
    plain,
    decoded,
    signals: { invisible, mixedScriptWords, base64: base64.length, spaced: despaced !== folded, leet: leetText !== despaced },
    joined: short ? joined(leetText) : "",
  };
}
