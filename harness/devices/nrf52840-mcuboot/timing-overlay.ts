/**
 * An nRF52840 board's timing overlay (`emulated.options.timing`, filled from a calibration
 * file by the rig loader or `hil emulate nrf52840 --calibration`): figures measured on a
 * real board replace the profile's datasheet ones, so virtual time matches that board.
 */
import { EmulatorOptionError } from "../option-error.js";
import { NRF52840_TIMING, type Nrf52840Timing } from "./profile.js";

export const NRF52840_TIMING_KEYS: readonly (keyof Nrf52840Timing)[] = [
  "pageEraseMs",
  "wordWriteMs",
  "bootloaderMs",
  "smpResetDelayMs",
  "uploadByteMs",
];

/** The profile's timing with the overlay's figures; @throws EmulatorOptionError naming a key it does not know or a figure that is not a positive number. */
export function nrf52840Timing(overlay: unknown): Nrf52840Timing {
  if (overlay === undefined) return NRF52840_TIMING;
  const keys = NRF52840_TIMING_KEYS.join(", ");
  if (typeof overlay !== "object" || overlay === null || Array.isArray(overlay))
    throw new EmulatorOptionError("timing", `an object of ${keys}`, overlay);
  const timing: Record<string, number> = { ...NRF52840_TIMING };
  for (const [key, value] of Object.entries(overlay)) {
    if (!(NRF52840_TIMING_KEYS as readonly string[]).includes(key))
      throw new EmulatorOptionError(`timing.${key}`, `one of ${keys}`, key);
    if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value))
      throw new EmulatorOptionError(`timing.${key}`, "a positive number of ms", value);
    timing[key] = value;
  }
  return timing as unknown as Nrf52840Timing;
}
