/**
 * A lab board's emulated twin: the emulator of the same family, with the personality the
 * board's identity (what the run's health check read from it) picks where the emulator has
 * one, else what the rig file's `twin:` says. The twin runs every scenario the board runs,
 * with the same seed and fault plan; its transcripts are compared with the board's.
 */
import type { Family } from "../seams/family.js";
import type { Identity } from "./identify.js";
import type { TwinSpec } from "./schema.js";

/** Set by `hil run --twin`: every lab board of the rig gets a twin. */
export const TWIN_ENV = "HIL_TWIN";

/** The twin's board id: the lab board's with `-twin`. */
export const twinId = (labId: string): string => `${labId}-twin`;

/** Emulator profile and options for a twin. */
export interface TwinPersonality {
  readonly profile: string | undefined;
  readonly options: Readonly<Record<string, unknown>>;
  /** What picked each choice, for the report ("tkey profile castor from firmware 6"). */
  readonly why: readonly string[];
}

/** TKey firmware version → emulator profile (harness/devices/tkey/profiles.ts). */
const TKEY_PROFILE_BY_VERSION: Readonly<Record<string, string>> = {
  "1": "qemu",
  "4": "engineering-release-2",
  "5": "bellatrix",
  "6": "castor",
};

/**
 * The twin's personality: the rig file's `twin:` profile and options, with what the identity
 * picks on top where the emulator has a matching personality: a TKey's firmware version
 * picks its profile. The emulators have one STM32 profile per family, one FUS and no MCUboot
 * mode in the identity yet, so bootloader, FUS version and MCUboot mode pick nothing: the
 * rig file's `twin: { options }` says what the identity cannot (`usartDoubleAck: true`).
 */
export function twinPersonality(
  family: Family,
  identity: Identity | undefined,
  spec: TwinSpec = {},
): TwinPersonality {
  let profile = spec.profile;
  const options: Record<string, unknown> = { ...spec.options };
  const why: string[] = [];
  if (spec.profile !== undefined) why.push(`profile ${spec.profile} from the rig file`);
  for (const key of Object.keys(spec.options ?? {})) why.push(`option ${key} from the rig file`);
  if (!identity) return { profile, options, why };
  if (family === "tkey" && identity.firmware !== undefined) {
    const byVersion = TKEY_PROFILE_BY_VERSION[identity.firmware];
    if (byVersion && spec.profile === undefined) {
      profile = byVersion;
      why.push(`tkey profile ${byVersion} from firmware ${identity.firmware}`);
    }
  }
  return { profile, options, why };
}
