import { Decoder, Encoder } from "cbor-x";
import { concatBytes } from "../../seams/bytes.js";
import { type ErrorCategory, HilError } from "../../seams/errors.js";

/**
 * SMP bodies are CBOR maps with text keys. Byte strings (data, hash, sha) must be plain
 * major type 2, so typed-array tags are off. Zephyr's zcbor (not canonical) and MCUboot
 * emit indefinite-length maps and lists; `encodeIndefinite` writes that form for the
 * emulators, and the decoder accepts both.
 */
const encoder = new Encoder({
  useRecords: false,
  tagUint8Array: false,
  mapsAsObjects: true,
  variableMapSize: true,
});
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

export type SmpBody = Record<string, unknown>;

export class SmpCborError extends HilError {
  static override readonly category: ErrorCategory = "device";
  constructor(message: string) {
    super(message);
    this.name = "SmpCborError";
  }
}

/** Definite-length encoding (what host tools such as smpclient send). */
export function encodeBody(body: SmpBody): Uint8Array {
  return new Uint8Array(encoder.encode(body));
}

/** Zephyr-style: maps as 0xBF … 0xFF and arrays as 0x9F … 0xFF, leaves as usual. */
export function encodeIndefinite(value: unknown): Uint8Array {
  const parts: Uint8Array[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      parts.push(Uint8Array.of(0x9f));
      for (const x of v) walk(x);
      parts.push(Uint8Array.of(0xff));
    } else if (v !== null && typeof v === "object" && !(v instanceof Uint8Array)) {
      parts.push(Uint8Array.of(0xbf));
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined) continue;
        parts.push(new Uint8Array(encoder.encode(k)));
        walk(x);
      }
      parts.push(Uint8Array.of(0xff));
    } else parts.push(new Uint8Array(encoder.encode(v)));
  };
  walk(value);
  return concatBytes(parts);
}

/** Decodes one CBOR map filling `bytes` exactly; anything else is an SmpCborError. */
export function decodeBody(bytes: Uint8Array): SmpBody {
  let value: unknown;
  try {
    value = decoder.decode(bytes);
  } catch (e) {
    throw new SmpCborError(`bad CBOR: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value) || value instanceof Uint8Array)
    throw new SmpCborError("SMP body is not a CBOR map");
  return normalise(value) as SmpBody;
}

/** cbor-x hands out Buffers on Node; tests and callers compare Uint8Arrays. */
function normalise(v: unknown): unknown {
  if (v instanceof Uint8Array)
    return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  if (Array.isArray(v)) return v.map(normalise);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = normalise(x);
    return out;
  }
  return v;
}
