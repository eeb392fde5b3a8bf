/**
 * The emulators' timing profile per operation, under the names report/operation-timing.ts
 * gives client operations: what an emulated board of the family charges per unit, for the
 * timing report's "emulator" column. Operations an emulator does not time give undefined.
 */
import { PROFILES } from "./stm32/profiles.js";
import { tkeyOperationMs } from "./tkey/operation-ms.js";

export function emulatorOperationMs(
  board: { readonly family?: string | undefined },
  op: string,
): number | undefined {
  if (board.family === "tkey") return tkeyOperationMs(op);
  const profile = Object.values(PROFILES).find((p) => p.family === board.family);
  if (!profile) return undefined;
  switch (op) {
    case "page erase":
      return profile.timing.pageEraseMs;
    case "mass erase":
      return profile.timing.massEraseMs;
    default:
      return undefined;
  }
}
