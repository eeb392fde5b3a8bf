/**
 * A board's timing overlay (`emulated.options.timing`, filled from a calibration file by the
 * rig loader or `hil emulate --calibration`): figures measured on a real board replace the
 * profile's datasheet ones, so virtual time matches that board.
 */
import { EmulatorOptionError } from "../option-error.js";
import type { Stm32Profile, Stm32Timing } from "./profiles.js";

const KEYS: readonly (keyof Stm32Timing)[] = [
  "pageEraseMs",
  "doubleWordProgramMs",
  "massEraseMs",
  "bootloaderStartMs",
  "usbConnectMs",
];

/** `profile` with the overlay's figures; @throws EmulatorOptionError naming a key it does not know or a figure that is not a positive number. */
export function withTimingOverlay(profile: Stm32Profile, overlay: unknown): Stm32Profile {
  if (overlay === undefined) return profile;
  if (typeof overlay !== "object" || overlay === null || Array.isArray(overlay))
    throw new EmulatorOptionError("timing", `an object of ${KEYS.join(", ")}`, overlay);
  const timing: Stm32Timing = { ...profile.timing };
  for (const [key, value] of Object.entries(overlay)) {
    if (!(KEYS as readonly string[]).includes(key))
      throw new EmulatorOptionError(`timing.${key}`, `one of ${KEYS.join(", ")}`, key);
    if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value))
      throw new EmulatorOptionError(`timing.${key}`, "a positive number of ms", value);
    timing[key as keyof Stm32Timing] = value;
  }
  return { ...profile, timing };
}
