import { dirname, resolve } from "node:path";
import type { EmulatedDevice } from "../devices/emulated-device.js";
import { createEmulatedBoard } from "../devices/registry.js";
import { commandBoot, commandReset } from "../lab/backends/command-controls.js";
import { CommandPower } from "../lab/backends/command-power.js";
import type { SignalStep } from "../lab/backends/dtr-rts.js";
import { dtrRtsBoot, dtrRtsReset } from "../lab/backends/dtr-rts.js";
import { GpioLine } from "../lab/backends/gpio.js";
import {
  DEFAULT_RESET_PULSE_MS,
  LinePower,
  lineBoot,
  lineReset,
  type OutputLine,
} from "../lab/backends/lines.js";
import { ManualPower } from "../lab/backends/manual-power.js";
import { RelayLine } from "../lab/backends/relay.js";
import { ScpiPower } from "../lab/backends/scpi-power.js";
import { parseStm32flashSequence } from "../lab/backends/stm32flash-sequence.js";
import { UhubctlPower } from "../lab/backends/uhubctl-power.js";
import { BoardLocator } from "../lab/locate.js";
import { readCalibrationSync } from "../report/calibration.js";
import type { BootControl, PowerControl, ResetControl } from "../seams/controls.js";
import { type Fault, parseFault } from "../sim/faults.js";
import { VirtualClock } from "../sim/virtual-clock.js";
import { type Clock, WallClock } from "../transport/clock.js";
import type { Board } from "./board.js";
import { IDENTITY_ENV, type Identity } from "./identify.js";
import { loadRigFileSync, resolveRigPath } from "./load.js";
import type { BoardSpec, EmulatedBoardSpec, LabBoardSpec, RigFile } from "./schema.js";
import { strategyFor } from "./strategies/index.js";
import { TWIN_ENV, twinId, twinPersonality } from "./twin.js";

/** A rig ready for suites: its boards with transports' clocks and controls built. */
export interface Rig {
  readonly name: string;
  readonly path: string;
  /** The run's seed when one was given (`--seed`, HIL_SEED); board seeds derive from it. */
  readonly seed: number | undefined;
  readonly boards: readonly Board[];
}

export interface BuildOptions {
  /** Run seed: every emulated board's seed becomes a function of it and the board id. */
  seed?: number | undefined;
  /** Faults armed on every emulated board (`hil run --fault`). */
  faults?: readonly Fault[] | undefined;
  /** Every lab board gets an emulated twin (`hil run --twin`), not only those the rig file marks `twin:`. */
  twin?: boolean | undefined;
  /** What each lab board said it is (the run's health check), to pick its twin's personality. */
  identities?: Readonly<Record<string, Identity>> | undefined;
  /** Where relative paths in the rig file start (buildRig sets it from the file's path). */
  rigDir?: string | undefined;
}

export function buildRig(file: RigFile, path: string, options: BuildOptions = {}): Rig {
  return {
    name: file.name,
    path,
    seed: options.seed,
    // A lab board's twin follows it, so its scenarios run right after the board's.
    boards: file.boards.flatMap((spec) => {
      const board = buildBoard(spec, { rigDir: dirname(path), ...options });
      if (spec.kind !== "lab" || (spec.twin === undefined && !options.twin)) return [board];
      return [board, buildTwinBoard(spec, board, options)];
    }),
  };
}

/**
 * The emulated twin of a lab board: its family's emulator with the personality its identity
 * picks ({@link twinPersonality}), the run's seed and faults, and the lab board's face to
 * suites (not emulated, its capabilities, no inspect), so it runs the same scenarios.
 */
function buildTwinBoard(spec: LabBoardSpec, lab: Board, options: BuildOptions): Board {
  const id = twinId(spec.id);
  const personality = twinPersonality(
    spec.family,
    { ...spec.info, ...options.identities?.[spec.id] },
    spec.twin,
  );
  const clock = new VirtualClock();
  // The lab board's own seed: a suite's random choices (images, addresses) are the same on both.
  const seed = lab.seed;
  const emulated = createEmulatedBoard(spec.family, {
    clock,
    seed,
    faults: options.faults ?? [],
    serial: lab.serial,
    profile: personality.profile,
    options: personality.options,
  });
  const device = emulated.device;
  const board: Omit<Board, "strategy"> = {
    id,
    family: spec.family,
    serial: lab.serial ?? device.serial,
    capabilities: lab.capabilities,
    emulated: false,
    clock,
    power: device.power,
    boot: emulatedBoot(device),
    reset: { backend: "emulated", reset: () => device.reset() },
    info: {
      ...device.identity(),
      ...(personality.why.length ? { twin: personality.why.join("; ") } : {}),
    },
    emulator: device,
    seed,
    twinOf: spec.id,
    // Its USART at the lab board's rate, so its line time is the lab line's.
    ...(spec.serial?.baudRate !== undefined ? { serialPort: { baudRate: spec.serial.baudRate } } : {}),
  };
  return { ...board, strategy: strategyFor(board, emulated.strategy) };
}

function buildBoard(spec: BoardSpec, options: BuildOptions): Board {
  return spec.kind === "emulated" ? buildEmulatedBoard(spec, options) : buildLabBoard(spec, options);
}

/** The board's options with its calibration file's figures as `timing` (which the options' own `timing` overrides). */
function withCalibration(
  options: Record<string, unknown> | undefined,
  calibration: string | undefined,
  rigDir: string | undefined,
): Record<string, unknown> | undefined {
  if (calibration === undefined) return options;
  const { timing } = readCalibrationSync(resolve(rigDir ?? ".", calibration));
  return { ...options, timing: { ...timing, ...(options?.timing as object | undefined) } };
}

function buildEmulatedBoard(spec: EmulatedBoardSpec, options: BuildOptions): Board {
  const clock = new VirtualClock();
  const seed = options.seed === undefined ? (spec.emulated.seed ?? 1) : mixSeed(options.seed, spec.id);
  const emulated = createEmulatedBoard(spec.family, {
    clock,
    seed,
    faults: options.faults ?? [],
    serial: spec.emulated.serial,
    profile: spec.emulated.profile,
    options: withCalibration(spec.emulated.options, spec.emulated.calibration, options.rigDir),
  });
  const device = emulated.device;
  const board: Omit<Board, "strategy" | "inspect"> = {
    id: spec.id,
    family: spec.family,
    serial: spec.emulated.serial ?? device.serial,
    capabilities: new Set([...spec.capabilities, "inspect"]),
    emulated: true,
    clock,
    power: device.power,
    boot: spec.boot.backend === "none" ? undefined : emulatedBoot(device),
    reset: spec.reset.backend === "none" ? undefined : { backend: "emulated", reset: () => device.reset() },
    // What the rig file says wins over what the emulator reports (a rack may pin versions).
    info: { ...device.identity(), ...spec.info },
    emulator: device,
    seed,
    ...(spec.serial ? { serialPort: { ...spec.serial } } : {}),
  };
  return { ...board, strategy: strategyFor(board, emulated.strategy), inspect: emulated.inspect };
}

function emulatedBoot(device: EmulatedDevice): BootControl | undefined {
  const select = device.selectBoot?.bind(device);
  if (!select) return undefined;
  return {
    backend: "emulated",
    bootloader: () => select("bootloader"),
    application: () => select("application"),
  };
}

/** A lab board's seed (for the random choices suites make for it, and its twin's emulator). */
function labSeed(spec: LabBoardSpec, options: BuildOptions): number {
  return options.seed === undefined ? 1 : mixSeed(options.seed, spec.id);
}

function buildLabBoard(spec: LabBoardSpec, options: BuildOptions): Board {
  const clock: Clock = new WallClock();
  const board: Omit<Board, "strategy"> = {
    id: spec.id,
    family: spec.family,
    serial: spec.usb?.serial ?? spec.serial?.usbSerial,
    serialPort: spec.serial ? { ...spec.serial } : undefined,
    capabilities: new Set(spec.capabilities),
    emulated: false,
    clock,
    power: labPower(spec, clock),
    boot: labBoot(spec, clock),
    ...(spec.boot.backend === "none" ? { startsIn: spec.boot.startsIn ?? "bootloader" } : {}),
    reset: labReset(spec, clock),
    info: { ...spec.info },
    emulator: undefined,
    seed: labSeed(spec, options),
    locator: new BoardLocator(spec, clock),
    ...(spec.usbip ? { usbip: spec.usbip } : {}),
    ...(spec.where ? { where: spec.where } : {}),
    timeouts: spec.timeouts,
  };
  return { ...board, strategy: strategyFor(board) };
}

/** The power, boot or reset line of a lab board, where the rig file wires one to a relay or GPIO. */
function outputLine(
  spec: LabBoardSpec,
  what: "power" | "boot" | "reset",
  line:
    | Extract<LabBoardSpec["power"] | LabBoardSpec["boot"] | LabBoardSpec["reset"], { backend: "relay" }>
    | Extract<LabBoardSpec["power"] | LabBoardSpec["boot"] | LabBoardSpec["reset"], { backend: "gpio" }>,
  clock: Clock,
): OutputLine {
  const owner = `board ${spec.id}: ${what} (${line.backend})`;
  return line.backend === "relay"
    ? new RelayLine(line, owner, clock, spec.timeouts.commandMs)
    : new GpioLine(line, owner, clock, spec.timeouts.commandMs);
}

function labPower(spec: LabBoardSpec, clock: Clock): PowerControl {
  const p = spec.power;
  const owner = `board ${spec.id}: power (${p.backend})`;
  switch (p.backend) {
    case "command":
      return new CommandPower(p, clock, spec.timeouts, spec.id);
    case "manual":
      return new ManualPower(spec.id, clock, spec.timeouts.powerOffMs, p.prompt);
    case "uhubctl":
      return new UhubctlPower(p, owner, clock, spec.timeouts);
    case "scpi":
      return new ScpiPower(p, owner, clock, spec.timeouts);
    case "relay":
    case "gpio":
      return new LinePower(outputLine(spec, "power", p, clock), clock, spec.timeouts.powerOffMs);
  }
}

function labBoot(spec: LabBoardSpec, clock: Clock): BootControl | undefined {
  const b = spec.boot;
  switch (b.backend) {
    case "none":
      return undefined;
    case "relay":
    case "gpio":
      return lineBoot(outputLine(spec, "boot", b, clock));
    case "command":
      return commandBoot(spec.id, b, spec.timeouts.commandMs);
    case "dtr-rts":
      return dtrRtsBoot(dtrRtsContext(spec, clock), {
        bootloader: signalSteps(b.bootloader),
        application: signalSteps(b.application),
      });
  }
}

function labReset(spec: LabBoardSpec, clock: Clock): ResetControl | undefined {
  const r = spec.reset;
  switch (r.backend) {
    case "none":
      return undefined;
    case "relay":
    case "gpio":
      return lineReset(outputLine(spec, "reset", r, clock), clock, r.pulseMs ?? DEFAULT_RESET_PULSE_MS);
    case "command":
      return commandReset(spec.id, r.command, spec.timeouts.commandMs);
    case "dtr-rts":
      return dtrRtsReset(dtrRtsContext(spec, clock), signalSteps(r.sequence));
  }
}

/** Steps as written, or read from an stm32flash `-i` string (checked by the schema already). */
function signalSteps(sequence: readonly SignalStep[] | string): readonly SignalStep[] {
  return typeof sequence === "string" ? parseStm32flashSequence(sequence).bootloader : sequence;
}

function dtrRtsContext(spec: LabBoardSpec, clock: Clock) {
  return { boardId: spec.id, port: spec.serial, clock, timeouts: spec.timeouts };
}

/** Board seed from the run seed and the board id (FNV-1a), so boards of one run differ but replay. */
export function mixSeed(runSeed: number, boardId: string): number {
  let h = (0x811c9dc5 ^ runSeed) >>> 0;
  for (let i = 0; i < boardId.length; i++) h = Math.imul(h ^ boardId.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

let current: Rig | undefined;

/**
 * The rig of this run: `HIL_RIG` (set by `hil run --rig`) or rigs/emulated.yaml, with the
 * seed from `HIL_SEED` and extra faults for every emulated board from `HIL_FAULTS`. Built
 * once per process. Synchronous on purpose: suite files call it while Mocha loads them,
 * and Mocha loads TypeScript through require(), where top-level await is not allowed.
 */
export function getRig(): Rig {
  if (!current) {
    try {
      const path = resolveRigPath(undefined);
      current = buildRig(loadRigFileSync(path), path, {
        seed: parseSeed(process.env.HIL_SEED),
        faults: parseFaultList(process.env.HIL_FAULTS),
        twin: process.env[TWIN_ENV] === "1",
        identities: identitiesFromEnv(),
      });
    } catch (error) {
      // Said here as well: when a .ts file fails to load, mocha reports its first attempt
      // (require) instead, which fails on an ESM-only package and hides this message.
      console.error(`hil: ${(error as Error).message}`);
      throw error;
    }
  }
  return current;
}

/** Every lab board's identity the run's health check read (IDENTITY_ENV), or none. */
function identitiesFromEnv(): Record<string, Identity> {
  const text = process.env[IDENTITY_ENV];
  if (!text) return {};
  try {
    return JSON.parse(text) as Record<string, Identity>;
  } catch {
    return {};
  }
}

function parseFaultList(text: string | undefined): Fault[] {
  if (!text) return [];
  return text.split(",").map((t) => parseFault(t));
}

export function parseSeed(text: string | undefined): number | undefined {
  if (text === undefined || text === "") return undefined;
  if (!/^\d+$/.test(text) || Number(text) > 0xffffffff)
    throw new Error(`seed '${text}' must be a whole number between 0 and 4294967295`);
  return Number(text);
}
