/**
 * The boards `hil emulate` serves, each with its runner, named by rig family
 * (emulate-families.ts: stm32l432, stm32wb55, tkey, nrf52840) with the older profile
 * names as aliases. Usage lines and "unknown profile" messages list these names, so a
 * board added here is listed everywhere.
 */
import type { EmulateOptions } from "./emulate-command.js";
import { EMULATE_FAMILIES, type EmulateFamily, FAMILY_ALIASES, stm32ProfileOf } from "./emulate-families.js";
import { runEmulateNrf52840 } from "./emulate-nrf52840.js";
import { runEmulateStm32 } from "./emulate-stm32.js";
import { runEmulateTKey } from "./emulate-tkey.js";

export interface EmulateProfile {
  readonly name: EmulateFamily;
  /** Other names it answers to. */
  readonly aliases: readonly string[];
  run(opts: EmulateOptions): Promise<number>;
}

function runnerOf(family: EmulateFamily): (opts: EmulateOptions) => Promise<number> {
  switch (family) {
    case "stm32l432":
    case "stm32wb55":
      return (opts) => runEmulateStm32(stm32ProfileOf(family), opts);
    case "tkey":
      return runEmulateTKey;
    case "nrf52840":
      return runEmulateNrf52840;
  }
}

const profiles: readonly EmulateProfile[] = EMULATE_FAMILIES.map((family) => ({
  name: family,
  aliases: Object.keys(FAMILY_ALIASES).filter((alias) => FAMILY_ALIASES[alias] === family),
  run: runnerOf(family),
}));

export const EMULATE_PROFILE_NAMES: readonly string[] = profiles.map((p) => p.name);

/** Every name `hil emulate` accepts: the families and their aliases. */
export const EMULATE_ACCEPTED_NAMES: readonly string[] = profiles.flatMap((p) => [p.name, ...p.aliases]);

export function emulateProfile(name: string): EmulateProfile | undefined {
  return profiles.find((p) => p.name === name || p.aliases.includes(name));
}
