/**
 * Seeded PRNG for everything random in an emulated run (torn flash contents, which byte a
 * line fault hits). One seed fixes every choice, so a transcript plus its seed replays.
 * SplitMix32: tiny, fast, passes the usual statistical batteries for this kind of use.
 */
export class Random {
  #state: number;

  constructor(readonly seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    this.#state = seed >>> 0;
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    this.#state = (this.#state + 0x9e3779b9) >>> 0;
    let z = this.#state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** Uniform integer in [0, bound). */
  below(bound: number): number {
    if (!(bound >= 1) || !Number.isInteger(bound))
      throw new RangeError(`bound must be a positive integer, got ${bound}`);
    return Math.floor((this.nextU32() / 0x1_0000_0000) * bound);
  }

  byte(): number {
    return this.nextU32() & 0xff;
  }

  /** `length` bytes, as many calls of {@link byte} would give (fixtures draw whole images). */
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.nextU32() & 0xff;
    return out;
  }

  /** An independent generator derived from this one and a label, so adding a consumer does not shift the others. */
  fork(label: string): Random {
    let h = this.seed >>> 0;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
    return new Random(h);
  }
}
