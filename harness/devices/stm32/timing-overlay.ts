/**
 * A board's timing overlay (`emulated.options.timing`, filled from a calibration file by the
 * rig loader or `hil emulate --calibration`): figures measured on a real board replace the
 * profile's datasheet ones, so virtual time matches that board. A WB55's overlay may also
 * carry FUS figures (fus/timing.ts FUS_OVERLAY_KEYS), which its CPU2 takes.
 */
import { checkTimingOverlay } from "../timing-overlay.js";
import { FUS_OVERLAY_KEYS, type FusTiming } from "./fus/timing.js";
import type { Stm32Profile, Stm32Timing } from "./profiles.js";

const KEYS: readonly (keyof Stm32Timing)[] = [
  "pageEraseMs",
  "doubleWordProgramMs",
  "massEraseMs",
  "bootloaderStartMs",
  "usbConnectMs",
];

/** The overlay keys a board of `profile` takes: the flash and USB figures, and on a WB55 the FUS ones. */
function keysOf(profile: Stm32Profile): readonly string[] {
  return profile.family === "stm32wb55" ? [...KEYS, ...Object.keys(FUS_OVERLAY_KEYS)] : KEYS;
}

/** The overlay's figures by key; @throws EmulatorOptionError naming a key `profile` does not take or a figure that is not a positive number. */
function checkedOverlay(profile: Stm32Profile, overlay: unknown): Record<string, number> {
  return checkTimingOverlay(overlay, keysOf(profile), (key) =>
    key in FUS_OVERLAY_KEYS ? ` (FUS figures only on a stm32wb55, this is a ${profile.family})` : "",
  );
}

/** `profile` with the overlay's figures; @throws EmulatorOptionError naming a key it does not know or a figure that is not a positive number. */
export function withTimingOverlay(profile: Stm32Profile, overlay: unknown): Stm32Profile {
  if (overlay === undefined) return profile;
  const timing: Stm32Timing = { ...profile.timing };
  for (const [key, value] of Object.entries(checkedOverlay(profile, overlay)))
    if ((KEYS as readonly string[]).includes(key)) timing[key as keyof Stm32Timing] = value;
  return { ...profile, timing };
}

/** The FUS figures of a WB55's overlay (checked as {@link withTimingOverlay} does), as FusTiming keys. */
export function fusTimingOverlay(profile: Stm32Profile, overlay: unknown): Partial<FusTiming> {
  if (overlay === undefined) return {};
  const fus: Partial<FusTiming> = {};
  for (const [key, value] of Object.entries(checkedOverlay(profile, overlay))) {
    const name = FUS_OVERLAY_KEYS[key];
    if (name) fus[name] = value;
  }
  return fus;
}
