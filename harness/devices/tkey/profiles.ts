/**
 * TKey firmware releases the emulator can be. They differ, as seen from the host, in the
 * version word, the CDI formula, the product ID in the UDI and the names of the states;
 * the protocol and its failure rules are the same in all of them.
 */
import { APP_MAX_SIZE, type CdiScheme } from "../../protocol/tkey/index.js";

/** Firmware states by role; each release has its own names for them. */
export type FirmwareRole = "waiting" | "loading" | "running" | "halted";

export interface TKeyProfile {
  readonly name: string;
  readonly description: string;
  readonly name0: string;
  readonly name1: string;
  readonly version: number;
  readonly cdi: CdiScheme;
  /** UDI fields other than the serial, unless the machine fixes the whole UDI. */
  readonly vendorId: number;
  readonly productId: number;
  readonly revision: number;
  /** The QEMU machine's UDI words, identical on every instance. */
  readonly fixedUdi?: readonly [number, number];
  readonly appMaxSize: number;
  readonly stateNames: Readonly<Record<FirmwareRole, string>>;
}

const BELLATRIX_STATES = { waiting: "INITIAL", loading: "LOADING", running: "RUN", halted: "FAIL" } as const;

// Vendor 0x1337, revision 2: the UDI shape Bellatrix keys report (word0 0x01337082); configurable per board.
const TILLITIS = { name0: "tk1 ", name1: "mkdf", vendorId: 0x1337, appMaxSize: APP_MAX_SIZE } as const;

export const TKEY_PROFILES: Readonly<Record<string, TKeyProfile>> = {
  bellatrix: {
    ...TILLITIS,
    name: "bellatrix",
    description: "TK1-24.03 (Bellatrix) firmware, version 5",
    version: 5,
    cdi: "bellatrix",
    productId: 2,
    revision: 2,
    stateNames: BELLATRIX_STATES,
  },
  "engineering-release-2": {
    ...TILLITIS,
    name: "engineering-release-2",
    description: "engineering-release-2 firmware, version 4 (Bellatrix CDI; product ID assumed 1, Acrab)",
    version: 4,
    cdi: "bellatrix",
    productId: 1,
    revision: 0,
    stateNames: BELLATRIX_STATES,
  },
  castor: {
    ...TILLITIS,
    name: "castor",
    description: "Castor firmware (TK1-Castor-alpha / HEAD), version 6, keyed CDI",
    version: 6,
    cdi: "castor",
    productId: 3,
    revision: 0,
    // After a cold boot the default app resets into the firmware, so the host meets WAITCOMMAND.
    stateNames: { waiting: "WAITCOMMAND", loading: "LOADING", running: "START", halted: "FAIL" },
  },
  qemu: {
    ...TILLITIS,
    name: "qemu",
    description: "the QEMU tk1 machine running Bellatrix firmware: version 1, fixed UDI",
    version: 1,
    cdi: "bellatrix",
    productId: 8,
    revision: 3,
    fixedUdi: [0x00010203, 0x04050607],
    stateNames: BELLATRIX_STATES,
  },
};

export const DEFAULT_TKEY_PROFILE = "bellatrix";

export function tkeyProfile(name: string | undefined): TKeyProfile {
  const profile = TKEY_PROFILES[name ?? DEFAULT_TKEY_PROFILE];
  if (!profile)
    throw new Error(`unknown tkey profile '${name}' (known: ${Object.keys(TKEY_PROFILES).join(", ")})`);
  return profile;
}

/** What an emulated TKey's device time is made of (ms); a timing overlay may replace any of them. */
export interface TKeyTiming {
  /** Line time of one byte, host to key and back (10 bit times at the line rate). */
  readonly byteMs: number;
  /** From plug-in to a port whose firmware listens. */
  readonly bootMs: number;
  /** Per answered frame besides its line time: USB latency through the CH552, the CPU's handling. */
  readonly frameMs: number;
  /** BLAKE2s of the loaded app, per KiB, before the last chunk's reply (which carries the digest). */
  readonly hashMsPerKb: number;
  /** The CDI and the jump to the app, after the last chunk's reply, before the app answers. */
  readonly appStartMs: number;
}

/**
 * Timings. The line rate is tkeyclient's SerialSpeed (62500 baud, 8N1: 10 bits a byte),
 * which is also the CH552-to-FPGA UART on the board. The boot time is an estimate (FPGA
 * configuration plus USB enumeration); no datasheet gives it. No document gives the
 * firmware's own time per frame, for the hash or for the start of an app either: they are 0
 * (not modelled) until a calibration from a real key (`hil calibrate`) sets them.
 */
export const TKEY_TIMING: TKeyTiming = {
  byteMs: 10_000 / 62500,
  bootMs: 100,
  frameMs: 0,
  hashMsPerKb: 0,
  appStartMs: 0,
};
