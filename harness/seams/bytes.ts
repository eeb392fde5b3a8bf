/** `parts` one after the other in a new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && firstDifference(a, b) < 0;
}

/**
 * Index of the first byte where `a` and `b` differ within the shorter of the two, or -1.
 * Sweeps compare whole flash images after every cut: aligned arrays go four bytes a step.
 */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  if (n >= 64 && a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    const words = n >>> 2;
    const wa = new Uint32Array(a.buffer, a.byteOffset, words);
    const wb = new Uint32Array(b.buffer, b.byteOffset, words);
    let w = 0;
    while (w < words && wa[w] === wb[w]) w++;
    i = w << 2;
  }
  for (; i < n; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Index of the first byte of `a` that is not `value`, or -1. */
export function firstNotEqualTo(a: Uint8Array, value: number): number {
  let i = 0;
  if (a.length >= 64 && a.byteOffset % 4 === 0) {
    const word = (value & 0xff) * 0x01010101;
    const words = new Uint32Array(a.buffer, a.byteOffset, a.length >>> 2);
    let w = 0;
    while (w < words.length && words[w] === word) w++;
    i = w << 2;
  }
  for (; i < a.length; i++) if (a[i] !== value) return i;
  return -1;
}
