/**
 * An emulated TKey's timing overlay (`emulated.options.timing`, filled from a calibration
 * file by the rig loader or `hil emulate tkey --calibration`): figures measured on a real
 * key replace the defaults, so virtual time matches that key.
 */
import { EmulatorOptionError } from "../option-error.js";
import { TKEY_TIMING, type TKeyTiming } from "./profiles.js";

const KEYS = Object.keys(TKEY_TIMING) as readonly (keyof TKeyTiming)[];

/** The defaults with the overlay's figures; @throws EmulatorOptionError naming a key it does not know or a figure that is not a positive number. */
export function tkeyTiming(overlay: unknown, base: TKeyTiming = TKEY_TIMING): TKeyTiming {
  if (overlay === undefined) return base;
  if (typeof overlay !== "object" || overlay === null || Array.isArray(overlay))
    throw new EmulatorOptionError("timing", `an object of ${KEYS.join(", ")}`, overlay);
  const timing: Record<string, number> = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    if (!(KEYS as readonly string[]).includes(key))
      throw new EmulatorOptionError(`timing.${key}`, `one of ${KEYS.join(", ")}`, key);
    if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value))
      throw new EmulatorOptionError(`timing.${key}`, "a positive number of ms", value);
    timing[key] = value;
  }
  return timing as unknown as TKeyTiming;
}
