/**
 * A deterministic token count for text, used where a provider reports none: the local provider's
 * usage, the reservation estimate of the input, and the charge of a stream that ended before
 * the provider's usage arrived. It approximates BPE tokenizers (about 4 characters of English per
 * token, one token per CJK character and per punctuation mark) and errs on the high side.
 */
const PIECE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]|[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu;

export function countTokens(text: string): number {
  let tokens = 0;
  for (const match of text.matchAll(PIECE)) {
    const piece = match[0];
    tokens += piece.length <= 4 ? 1 : Math.ceil(piece.length / 4);
  }
  return tokens;
}

/** Per-message framing (role markers, separators) that chat templates add. */
export const MESSAGE_OVERHEAD_TOKENS = 4;

export function countMessageTokens(messages: ReadonlyArray<{ content: string }>): number {
  return messages.reduce((sum, message) => sum + countTokens(message.content) + MESSAGE_OVERHEAD_TOKENS, 0);
}

/** The first `maxTokens` tokens of `text` (whole pieces, original spacing kept). */
export function truncateToTokens(text: string, maxTokens: number): string {
  let tokens = 0;
  for (const match of text.matchAll(PIECE)) {
    const piece = match[0];
    tokens += piece.length <= 4 ? 1 : Math.ceil(piece.length / 4);
    if (tokens > maxTokens) return text.slice(0, match.index).trimEnd();
  }
  return text;
}
