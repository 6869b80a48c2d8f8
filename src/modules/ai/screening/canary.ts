/**
 * Output screening without buffering the stream: the system prompt carries a per-request canary;
 * a completion that starts to reproduce it is cut. Text is released as soon as it cannot be the
 * beginning of the canary, so at most `canary.length - 1` characters are ever held back.
 */
export function newCanary(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return `cnry-${Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

export interface CanaryGuard {
  /** Text safe to release now; `leaked` once the canary (or most of it) appeared. */
  push(text: string): { release: string; leaked: boolean };
  /** What is held back, released at the end of a clean stream. */
  flush(): string;
}

/** A leak is the whole canary, or its random part alone (models drop prefixes). */
export function canaryGuard(canary: string): CanaryGuard {
  const secret = canary.slice(canary.indexOf("-") + 1);
  let held = "";
  let leaked = false;
  const longestPrefixAtEnd = (text: string): number => {
    for (let length = Math.min(canary.length - 1, text.length); length > 0; length--) {
      const tail = text.slice(text.length - length);
      if (canary.startsWith(tail) || secret.startsWith(tail)) return length;
    }
    return 0;
  };
  return {
    push(text) {
      if (leaked) return { release: "", leaked };
      const combined = held + text;
      if (combined.includes(secret)) {
        leaked = true;
        held = "";
        return { release: "", leaked };
      }
      const keep = longestPrefixAtEnd(combined);
      held = combined.slice(combined.length - keep);
      return { release: combined.slice(0, combined.length - keep), leaked };
    },
    flush() {
      const rest = held;
      held = "";
      return rest;
    },
  };
}
