/**
 * An emulated TKey's timing overlay (`emulated.options.timing`, filled from a calibration
 * file by the rig loader or `hil emulate tkey --calibration`): figures measured on a real
 * key replace the defaults, so virtual time matches that key.
 */
import { checkTimingOverlay } from "../timing-overlay.js";
import { TKEY_TIMING, type TKeyTiming } from "./profiles.js";

const KEYS = Object.keys(TKEY_TIMING) as readonly (keyof TKeyTiming)[];

/** The defaults with the overlay's figures; @throws EmulatorOptionError naming a key it does not know or a figure that is not a positive number. */
export function tkeyTiming(overlay: unknown, base: TKeyTiming = TKEY_TIMING): TKeyTiming {
  if (overlay === undefined) return base;
  return { ...base, ...checkTimingOverlay(overlay, KEYS) };
}
