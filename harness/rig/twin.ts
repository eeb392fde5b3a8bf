/**
 * A lab board's emulated twin: the emulator of the same family, with the personality the
 * board's identity (what the run's health check read from it) picks where the emulator has
 * one, else what the rig file's `twin:` says. The twin runs every scenario the board runs,
 * with the same seed and fault plan; its transcripts are compared with the board's.
 */
import { stm32ProfileOf } from "../devices/registry.js";
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
 * MCUboot modes (the identity's `mcuboot mode`, from SMP bootloader information) the nRF52840
 * emulator has, as its `mode` option takes them (devices/nrf52840-mcuboot/profile.ts).
 */
const NRF52840_MODES: ReadonlySet<string> = new Set([
  "swap-using-move",
  "swap-using-scratch",
  "overwrite-only",
]);

/**
 * The twin's personality: the rig file's `twin:` profile and options, with what the identity
 * picks on top where the emulator has a matching personality and the rig file did not choose:
 * - a TKey's firmware version picks its profile;
 * - an nRF52840's `mcuboot mode` (SMP bootloader information) picks the emulator's `mode`,
 *   and `no-downgrade` its `downgradePrevention`; a mode the emulator lacks (direct-xip,
 *   ram-load, ...) picks nothing and says so;
 * - a WB55's `fus` version (FUS device information table) picks the emulator's factory
 *   `fusVersion`;
 * - an STM32's bootloader ID and USART protocol version pick nothing: AN2606 documents one ROM
 *   bootloader per family here (L43x V9.1, ID 0x91; WB55 V13.5, ID 0xD5; both USART protocol
 *   V3.1), which is the emulator's profile, so there is no other version to choose and the
 *   known limitations AN2606 lists go with that one version (the L43x V9.1 ones hang on the
 *   Version Information ID byte at 0x1FFF6FF2, which neither the identity reads nor the
 *   emulator models). A board reporting another ID or protocol is noted in `why`.
 * The rig file's `twin: { options }` says what the identity cannot (`usartDoubleAck: true`).
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
  if (family === "nrf52840") pickMcuboot(identity, spec, options, why);
  if (family === "stm32wb55") pickFus(identity, spec, options, why);
  if (family === "stm32l432" || family === "stm32wb55") noteStm32Bootloader(family, identity, why);
  if (family === "tkey" && identity.firmware !== undefined) {
    const byVersion = TKEY_PROFILE_BY_VERSION[identity.firmware];
    if (byVersion && spec.profile === undefined) {
      profile = byVersion;
      why.push(`tkey profile ${byVersion} from firmware ${identity.firmware}`);
    }
  }
  return { profile, options, why };
}

/**
 * A WB55 twin's factory FUS: the version the board's device information table reported
 * (the emulator's `fusVersion`; what FUS reports and its rollback check compares with).
 */
function pickFus(identity: Identity, spec: TwinSpec, options: Record<string, unknown>, why: string[]): void {
  const fus = identity.fus;
  if (fus === undefined || spec.options?.fusVersion !== undefined) return;
  if (!/^\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(fus)) return;
  options.fusVersion = fus;
  why.push(`fus ${fus} from the board's device information table`);
}

/** Notes an STM32 whose ROM says it is not the bootloader AN2606 documents for its family. */
function noteStm32Bootloader(family: Family, identity: Identity, why: string[]): void {
  const profile = stm32ProfileOf(family, undefined);
  const id = `0x${profile.bootloaderId.toString(16)}`;
  const version = `V${profile.bootloaderId >> 4}.${profile.bootloaderId & 0xf}`;
  if (identity.bootloader !== undefined && identity.bootloader.toLowerCase() !== id)
    why.push(
      `bootloader ${identity.bootloader}: AN2606 lists ${id} (${version}) for ${family}, no emulator personality for it; the twin stays ${version}`,
    );
  const protocol = `${profile.usartProtocolVersion >> 4}.${profile.usartProtocolVersion & 0xf}`;
  const reported = identity["usart-protocol"];
  if (reported !== undefined && reported !== protocol)
    why.push(
      `usart-protocol ${reported}: the emulator's ${family} bootloader speaks ${protocol}; the twin stays ${protocol}`,
    );
}

/** An nRF52840 twin's MCUboot mode and downgrade prevention, from the board's bootloader information. */
function pickMcuboot(
  identity: Identity,
  spec: TwinSpec,
  options: Record<string, unknown>,
  why: string[],
): void {
  const mode = identity["mcuboot mode"];
  if (mode !== undefined && spec.options?.mode === undefined) {
    if (NRF52840_MODES.has(mode)) {
      options.mode = mode;
      why.push(`mcuboot mode ${mode} from the board's bootloader info`);
    } else why.push(`mcuboot mode ${mode}: the emulator has no such mode, the twin keeps its default`);
  }
  if (identity["no-downgrade"] === "yes" && spec.options?.downgradePrevention === undefined) {
    options.downgradePrevention = true;
    why.push("downgrade prevention from the board's bootloader info");
  }
}
