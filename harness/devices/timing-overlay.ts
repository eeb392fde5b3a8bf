/**
 * A board's timing overlay (`emulated.options.timing`, filled from a calibration file by the
 * rig loader or `hil emulate --calibration`) checked against the figures its emulator has:
 * each family lists its keys, this refuses anything else before a figure replaces one.
 */
import { EmulatorOptionError } from "./option-error.js";

/**
 * The overlay's figures by key.
 * @param why more words for a key the board does not take (`(FUS figures only on a stm32wb55)`).
 * @throws EmulatorOptionError naming a key not in `keys`, or a figure that is not a positive number.
 */
export function checkTimingOverlay(
  overlay: unknown,
  keys: readonly string[],
  why: (key: string) => string = () => "",
): Record<string, number> {
  if (typeof overlay !== "object" || overlay === null || Array.isArray(overlay))
    throw new EmulatorOptionError("timing", `an object of ${keys.join(", ")}`, overlay);
  for (const [key, value] of Object.entries(overlay)) {
    if (!keys.includes(key))
      throw new EmulatorOptionError(`timing.${key}`, `one of ${keys.join(", ")}${why(key)}`, key);
    if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value))
      throw new EmulatorOptionError(`timing.${key}`, "a positive number of ms", value);
  }
  return overlay as Record<string, number>;
}
