/**
 * argon2id (RFC 9106) computed by the argon2 reference C implementation, compiled to WebAssembly
 * SIMD. The `.wasm` comes from `@phi-ag/argon2` (MIT); only the binary is used. Its JavaScript
 * wrapper is not: it passes a password's UTF-16 length as its byte length, so a non-ASCII password
 * would be hashed truncated. This glue copies exact bytes in and out of the module's memory.
 *
 * Cost: about 8x less CPU than the pure-JavaScript @noble/hashes (docs/passwords.md), with
 * identical output (test/unit/argon2id.test.ts cross-checks both on random passwords).
 */
import argon2Wasm from "@phi-ag/argon2/argon2.wasm";

/** The functions the module exports (emscripten build of the reference `argon2.h`). */
interface Argon2Exports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  malloc(size: number): number;
  free(pointer: number): void;
  argon2_hash(
    timeCost: number,
    memoryKib: number,
    parallelism: number,
    password: number,
    passwordLength: number,
    salt: number,
    saltLength: number,
    hash: number,
    hashLength: number,
    encoded: number,
    encodedLength: number,
    type: number,
    version: number,
  ): number;
  argon2_error_message(code: number): number;
}

const ARGON2_ID = 2;
const ARGON2_VERSION_13 = 0x13;

export interface Argon2idCost {
  /** Memory in KiB (`m`). */
  memoryKib: number;
  /** Passes over memory (`t`). */
  iterations: number;
  /** Lanes (`p`); the build is single-threaded, so lanes add work, not speed. */
  parallelism: number;
}

let instance: Argon2Exports | undefined;

/**
 * One instance per isolate. Its memory grows to the largest matrix hashed so far (about `m` KiB)
 * and stays there: WebAssembly memory never shrinks, and regrowing it on every login would cost
 * more than keeping it.
 */
function exports(): Argon2Exports {
  if (!instance) {
    const created = new WebAssembly.Instance(argon2Wasm, {}).exports as unknown as Argon2Exports;
    created._initialize();
    instance = created;
  }
  return instance;
}

function readCString(memory: WebAssembly.Memory, pointer: number): string {
  const heap = new Uint8Array(memory.buffer);
  let end = pointer;
  while (end < heap.length && heap[end] !== 0) end++;
  return new TextDecoder().decode(heap.subarray(pointer, end));
}

/**
 * The raw argon2id tag of `password` (exact bytes) with `salt`, `length` bytes long. Synchronous:
 * the module runs to completion (tens of milliseconds at the OWASP parameters). Throws an `Error`
 * carrying argon2's own message when the reference code refuses the input (for example m < 8·p,
 * a salt under 8 bytes, or memory it cannot allocate).
 *
 * @example
 * const tag = argon2id(new TextEncoder().encode("pässwörd ✓"), salt, { memoryKib: 19456, iterations: 2, parallelism: 1 }, 32);
 */
export function argon2id(password: Uint8Array, salt: Uint8Array, cost: Argon2idCost, length: number): Uint8Array {
  const wasm = exports();
  // malloc(0) may return 0; one byte keeps every pointer valid for an empty password.
  const passwordPointer = wasm.malloc(Math.max(1, password.length));
  const saltPointer = wasm.malloc(Math.max(1, salt.length));
  const hashPointer = wasm.malloc(length);
  if (passwordPointer === 0 || saltPointer === 0 || hashPointer === 0) {
    for (const pointer of [passwordPointer, saltPointer, hashPointer]) if (pointer !== 0) wasm.free(pointer);
    throw new Error("argon2id: out of WebAssembly memory");
  }
  try {
    // A view taken after argon2_hash may differ: the call can grow (and so replace) the buffer.
    let heap = new Uint8Array(wasm.memory.buffer);
    heap.set(password, passwordPointer);
    heap.set(salt, saltPointer);
    const code = wasm.argon2_hash(
      cost.iterations,
      cost.memoryKib,
      cost.parallelism,
      passwordPointer,
      password.length,
      saltPointer,
      salt.length,
      hashPointer,
      length,
      0, // no encoded output: the PHC string is written by src/lib/password.ts
      0,
      ARGON2_ID,
      ARGON2_VERSION_13,
    );
    if (code !== 0) throw new Error(`argon2id: ${readCString(wasm.memory, wasm.argon2_error_message(code))}`);
    heap = new Uint8Array(wasm.memory.buffer);
    return heap.slice(hashPointer, hashPointer + length);
  } finally {
    // The password and the tag must not linger in the module's memory for the next caller to see.
    const heap = new Uint8Array(wasm.memory.buffer);
    heap.fill(0, passwordPointer, passwordPointer + password.length);
    heap.fill(0, hashPointer, hashPointer + length);
    wasm.free(passwordPointer);
    wasm.free(saltPointer);
    wasm.free(hashPointer);
  }
}
