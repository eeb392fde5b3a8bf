/**
 * An nRF52840 board's timing overlay (`emulated.options.timing`, filled from a calibration
 * file by the rig loader or `hil emulate nrf52840 --calibration`): figures measured on a
 * real board replace the profile's datasheet ones, so virtual time matches that board.
 */
import { checkTimingOverlay } from "../timing-overlay.js";
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
  return { ...NRF52840_TIMING, ...checkTimingOverlay(overlay, NRF52840_TIMING_KEYS) };
}
