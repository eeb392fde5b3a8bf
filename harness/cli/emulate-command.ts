/**
 * `hil emulate <profile> --uart-pty PATH | --usbip [HOST:]PORT`: an emulated board served to
 * outside programs, until SIGINT/SIGTERM. Each profile's runner (emulate-profiles.ts) prints
 * `ready PATH` / `ready usbip …` once a client acting on the line at once is served; SIGHUP,
 * SIGUSR1 and SIGUSR2 drive its power (emulate-session.ts).
 */

import { emulateNames } from "./emulate-families.js";
import { emulateProfile } from "./emulate-profiles.js";
import { UsageError } from "./usage-error.js";

export const EMULATE_OPTIONS = {
  "uart-pty": { type: "string" },
  usbip: { type: "string" },
  seed: { type: "string" },
  state: { type: "string" },
  fault: { type: "string", multiple: true },
  boot: { type: "string" },
  option: { type: "string", multiple: true },
  /** nrf52840: the provisioned key (same as --option key=FILE). */
  key: { type: "string" },
  log: { type: "boolean" },
  /** STM32, nRF52840: a timing overlay from `hil calibrate`. */
  calibration: { type: "string" },
} as const;

export interface EmulateOptions {
  "uart-pty"?: string | undefined;
  usbip?: string | undefined;
  seed?: string | undefined;
  state?: string | undefined;
  fault?: string[] | undefined;
  boot?: string | undefined;
  option?: string[] | undefined;
  key?: string | undefined;
  log?: boolean | undefined;
  calibration?: string | undefined;
}

export async function runEmulate(opts: EmulateOptions, positionals: string[]): Promise<number> {
  const [name, ...extra] = positionals;
  if (!name || extra.length > 0)
    throw new UsageError(`emulate: expected one board family (${emulateNames()})`);
  const profile = emulateProfile(name);
  if (!profile) throw new UsageError(`emulate: unknown board family '${name}' (known: ${emulateNames()})`);
  if (opts.key !== undefined && profile.name !== "nrf52840")
    throw new UsageError(`emulate: --key is for nrf52840, not '${name}'`);
  return profile.run(opts);
}
