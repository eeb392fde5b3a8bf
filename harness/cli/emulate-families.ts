/**
 * What `hil emulate` serves, named as rig files name families (`family:` in rigs/*.yaml),
 * so one name means one board everywhere. The profile names it took before stay as
 * aliases. sim-nor is not here: it has no serial line or USB port to serve.
 */
import { PROFILES, type Stm32ProfileName } from "../devices/stm32/profiles.js";

export const EMULATE_FAMILIES = ["stm32l432", "stm32wb55", "tkey", "nrf52840"] as const;
export type EmulateFamily = (typeof EMULATE_FAMILIES)[number];

/** Older `hil emulate` names (device profiles) and the family each stands for. */
export const FAMILY_ALIASES: Readonly<Record<string, EmulateFamily>> = {
  stm32l432kc: "stm32l432",
  "nrf52840-mcuboot": "nrf52840",
};

/** The family a name on the command line means, if any (a family name or an alias). */
export function emulateFamily(name: string | undefined): EmulateFamily | undefined {
  if (name === undefined) return undefined;
  return (EMULATE_FAMILIES as readonly string[]).includes(name)
    ? (name as EmulateFamily)
    : FAMILY_ALIASES[name];
}

/** For usage lines: "stm32l432 (or stm32l432kc), stm32wb55, ...". */
export function emulateNames(): string {
  return EMULATE_FAMILIES.map((f) => {
    const aliases = Object.keys(FAMILY_ALIASES).filter((a) => FAMILY_ALIASES[a] === f);
    return aliases.length > 0 ? `${f} (or ${aliases.join(", ")})` : f;
  }).join(", ");
}

/** The STM32 chip profile a family runs. */
export function stm32ProfileOf(family: "stm32l432" | "stm32wb55"): Stm32ProfileName {
  const name = (Object.keys(PROFILES) as Stm32ProfileName[]).find((p) => PROFILES[p].family === family);
  if (!name) throw new Error(`no STM32 profile for family ${family}`);
  return name;
}
