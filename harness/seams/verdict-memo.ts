/**
 * Recent verdicts of a pure check (a signature verification), looked up by the bytes of its
 * inputs. An emulated bootloader verifies the same image at every boot, and a power-cut
 * sweep boots hundreds of times; a verdict depends on its inputs only, so keeping it changes
 * no result. Bounded: past `capacity` verdicts it starts over.
 */
export class VerdictMemo {
  readonly #verdicts = new Map<string, boolean>();

  constructor(readonly capacity = 256) {}

  /** `decide()`'s verdict for `inputs`, from memory when the same inputs were decided lately. */
  check(inputs: readonly (Uint8Array | string)[], decide: () => boolean): boolean {
    const id = inputs.map((x) => (typeof x === "string" ? `"${x}"` : hex(x))).join(":");
    const known = this.#verdicts.get(id);
    if (known !== undefined) return known;
    const verdict = decide();
    if (this.#verdicts.size >= this.capacity) this.#verdicts.clear();
    this.#verdicts.set(id, verdict);
    return verdict;
  }
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += (b < 16 ? "0" : "") + b.toString(16);
  return s;
}
