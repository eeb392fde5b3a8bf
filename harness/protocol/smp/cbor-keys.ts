/**
 * The top-level keys of a CBOR map, in order, duplicates kept. Decoders that build objects
 * (cbor-x) keep only the last of a repeated key, but zcbor_map_decode_bulk refuses a
 * request with a duplicate key (EINVAL), so the server needs to see them all.
 * Returns undefined when `bytes` is not one well-formed map.
 */
export function topLevelKeys(bytes: Uint8Array): unknown[] | undefined {
  const r = new Reader(bytes);
  try {
    const { major, arg, indefinite } = r.head();
    if (major !== 5) return undefined;
    const keys: unknown[] = [];
    for (let i = 0; indefinite ? !r.atBreak() : i < arg; i++) {
      keys.push(r.keyOrSkip());
      r.skip();
    }
    if (indefinite) r.pos++;
    return r.pos === bytes.length ? keys : undefined;
  } catch {
    return undefined;
  }
}

export function duplicateKey(bytes: Uint8Array): unknown | undefined {
  const keys = topLevelKeys(bytes) ?? [];
  const seen = new Set<unknown>();
  for (const k of keys) {
    if (seen.has(k)) return k;
    seen.add(k);
  }
  return undefined;
}

class Reader {
  pos = 0;
  constructor(private readonly b: Uint8Array) {}

  byte(): number {
    if (this.pos >= this.b.length) throw new RangeError("truncated");
    return this.b[this.pos++]!;
  }

  atBreak(): boolean {
    if (this.pos >= this.b.length) throw new RangeError("truncated");
    return this.b[this.pos] === 0xff;
  }

  head(): { major: number; arg: number; indefinite: boolean } {
    const ib = this.byte();
    const major = ib >> 5;
    const info = ib & 0x1f;
    if (info < 24) return { major, arg: info, indefinite: false };
    if (info === 31) return { major, arg: 0, indefinite: true };
    const n = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
    if (n === 0) throw new RangeError("reserved additional info");
    let arg = 0;
    for (let i = 0; i < n; i++) arg = arg * 256 + this.byte();
    return { major, arg, indefinite: false };
  }

  /** A text or unsigned key's value (for comparison); other keys read as their byte range. */
  keyOrSkip(): unknown {
    const start = this.pos;
    const ib = this.b[start];
    if (ib !== undefined && ib >> 5 === 3 && (ib & 0x1f) !== 31) {
      const { arg } = this.head();
      const text = Buffer.from(this.b.subarray(this.pos, this.pos + arg)).toString("utf8");
      this.pos += arg;
      return text;
    }
    this.skip();
    return Buffer.from(this.b.subarray(start, this.pos)).toString("hex");
  }

  skip(): void {
    const { major, arg, indefinite } = this.head();
    switch (major) {
      case 0:
      case 1:
        return;
      case 2:
      case 3:
        if (indefinite) {
          while (!this.atBreak()) this.skip();
          this.pos++;
        } else this.pos += arg;
        if (this.pos > this.b.length) throw new RangeError("truncated");
        return;
      case 4:
      case 5: {
        const per = major === 5 ? 2 : 1;
        if (indefinite) {
          while (!this.atBreak()) for (let k = 0; k < per; k++) this.skip();
          this.pos++;
        } else for (let i = 0; i < arg * per; i++) this.skip();
        return;
      }
      case 6:
        this.skip();
        return;
      default:
        if (indefinite) throw new RangeError("unexpected break");
    }
  }
}
