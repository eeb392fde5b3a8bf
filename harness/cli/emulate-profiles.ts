/**
 * The profiles `hil emulate` serves, each with its runner: one per STM32 chip profile of
 * the device registry, the TKey, the nRF52840 DK with MCUboot. Usage lines and "unknown
 * profile" messages list these names, so a profile added here is listed everywhere.
 */
import { PROFILES } from "../devices/stm32/profiles.js";
import type { EmulateOptions } from "./emulate-command.js";
import { runEmulateNrf52840 } from "./emulate-nrf52840.js";
import { runEmulateStm32 } from "./emulate-stm32.js";
import { runEmulateTKey } from "./emulate-tkey.js";

export interface EmulateProfile {
  readonly name: string;
  /** Other names it answers to. */
  readonly aliases: readonly string[];
  run(opts: EmulateOptions): Promise<number>;
}

const profiles: readonly EmulateProfile[] = [
  ...Object.keys(PROFILES).map((name) => ({
    name,
    aliases: [],
    run: (opts: EmulateOptions) => runEmulateStm32(name, opts),
  })),
  { name: "tkey", aliases: [], run: runEmulateTKey },
  { name: "nrf52840-mcuboot", aliases: ["nrf52840"], run: runEmulateNrf52840 },
];

export const EMULATE_PROFILE_NAMES: readonly string[] = profiles.map((p) => p.name);

export function emulateProfile(name: string): EmulateProfile | undefined {
  return profiles.find((p) => p.name === name || p.aliases.includes(name));
}
