/**
 * The emulators' timing profile per operation, under the names report/operation-timing.ts
 * gives client operations: what an emulated board of the family charges per unit, for the
 * timing report's "emulator" column. Operations an emulator does not time give undefined.
 */
import { FUS_TIMING } from "./stm32/fus/timing.js";
import { PROFILES } from "./stm32/profiles.js";

export function emulatorOperationMs(
  board: { readonly family?: string | undefined },
  op: string,
): number | undefined {
  const profile = Object.values(PROFILES).find((p) => p.family === board.family);
  if (!profile) return undefined;
  switch (op) {
    case "page erase":
      return profile.timing.pageEraseMs;
    case "mass erase":
      return profile.timing.massEraseMs;
    // FUS install phases (WB55): what CPU2 charges, per sector with the flash's erase and program.
    case "FUS install: verify and first reset":
      return profile.family === "stm32wb55" ? FUS_TIMING.verifyMs : undefined;
    case "FUS install: program":
      return profile.family === "stm32wb55"
        ? FUS_TIMING.installPerSectorMs + fusSectorFlashMs(profile)
        : undefined;
    case "FUS upgrade: program":
      // The staged copy of each sector is erased after the install, too.
      return profile.family === "stm32wb55"
        ? FUS_TIMING.fusUpgradePerSectorMs + fusSectorFlashMs(profile) + profile.timing.pageEraseMs
        : undefined;
    case "FUS prepare and reset":
      return profile.family === "stm32wb55" ? FUS_TIMING.prepareMs : undefined;
    case "FUS stack start":
      return profile.family === "stm32wb55" ? FUS_TIMING.firstGetStateAfterInstallMs : undefined;
    default:
      return undefined;
  }
}

/** A 4 KB sector FUS moves: one page erase and its double words programmed. */
function fusSectorFlashMs(profile: (typeof PROFILES)[keyof typeof PROFILES]): number {
  return profile.timing.pageEraseMs + (profile.flash.pageSize / 8) * profile.timing.doubleWordProgramMs;
}
