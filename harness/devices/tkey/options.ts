/**
 * Per-board identity of an emulated TKey from the rig file's `emulated.options`:
 *   uds: 64 hex digits (the 32 UDS bytes as the CPU reads them, words little-endian)
 *   udi: { vendorId, productId, revision, serial } overriding the profile's fields
 *   appMaxSize: RAM limit for LOAD_APP (default the profile's, 0x20000)
 *   misbehave: SEED[:RATE], the misbehaving personality (harness/devices/misbehave.ts)
 *   timing: { byteMs, bootMs, frameMs, hashMsPerKb, appStartMs } (timing-overlay.ts)
 *   qemuTrapRestart: true, the QEMU tk1 machine's trap, which restarts the firmware where
 *     hardware halts until unplugged (reference/tkey-mcuboot-smp.md, QEMU differences)
 * Unset values derive from the board's seed, so boards differ but replay.
 */
import { encodeUdi } from "../../protocol/tkey/index.js";
import { type ErrorCategory, HilError } from "../../seams/errors.js";
import { Random } from "../../sim/random.js";
import type { TKeyProfile } from "./profiles.js";

export interface TKeyIdentity {
  udsWords: readonly number[];
  udiWords: readonly [number, number];
  appMaxSize: number;
}

// `misbehave` and `timing` are read by the device itself (misbehave.ts, timing-overlay.ts).
const KEYS = ["uds", "udi", "appMaxSize", "misbehave", "timing", "qemuTrapRestart"];

export class TKeyOptionsError extends HilError {
  static override readonly category: ErrorCategory = "usage";
  override name = "TKeyOptionsError";
}

export function parseTKeyOptions(
  profile: TKeyProfile,
  options: Record<string, unknown>,
  seed: number,
): TKeyIdentity {
  for (const key of Object.keys(options))
    if (!KEYS.includes(key))
      throw new TKeyOptionsError(`tkey option '${key}' unknown (known: ${KEYS.join(", ")})`);
  const random = new Random(seed).fork("tkey identity");
  const udsWords = Array.from({ length: 8 }, () => random.nextU32());
  const serial = random.nextU32();
  if (options.uds !== undefined) {
    const hex = options.uds;
    if (typeof hex !== "string" || !/^[0-9a-fA-F]{64}$/.test(hex))
      throw new TKeyOptionsError("tkey option uds must be 64 hex digits");
    for (let i = 0; i < 8; i++) {
      const bytes = hex.slice(i * 8, i * 8 + 8).match(/../g)!;
      udsWords[i] = Number.parseInt(bytes.reverse().join(""), 16) >>> 0;
    }
  }
  if (
    options.appMaxSize !== undefined &&
    !(Number.isInteger(options.appMaxSize) && (options.appMaxSize as number) > 0)
  )
    throw new TKeyOptionsError("tkey option appMaxSize must be a positive integer");
  const udi = (options.udi ?? {}) as Record<string, unknown>;
  if (typeof udi !== "object" || udi === null)
    throw new TKeyOptionsError("tkey option udi must be a mapping");
  const field = (name: string, fallback: number) => {
    const v = udi[name];
    if (v === undefined) return fallback;
    if (!Number.isInteger(v)) throw new TKeyOptionsError(`tkey option udi.${name} must be an integer`);
    return v as number;
  };
  let udiWords: [number, number];
  try {
    udiWords =
      profile.fixedUdi && options.udi === undefined
        ? [profile.fixedUdi[0], profile.fixedUdi[1]]
        : encodeUdi({
            reserved: 0,
            vendorId: field("vendorId", profile.vendorId),
            productId: field("productId", profile.productId),
            revision: field("revision", profile.revision),
            serial: field("serial", serial),
          });
  } catch (e) {
    if (e instanceof TKeyOptionsError) throw e; // already names its field
    throw new TKeyOptionsError(`tkey option udi: ${(e as Error).message}`);
  }
  return { udsWords, udiWords, appMaxSize: (options.appMaxSize as number | undefined) ?? profile.appMaxSize };
}

/** The `qemuTrapRestart` option: false unless set. @throws TKeyOptionsError when it is not a boolean. */
export function trapRestartsOf(options: Record<string, unknown>): boolean {
  const v = options.qemuTrapRestart;
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw new TKeyOptionsError("tkey option qemuTrapRestart must be true or false");
  return v;
}
