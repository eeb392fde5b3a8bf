/**
 * Health checks of a rack (`hil rigs --check`, and the start of `hil run` on a lab rig):
 * per board, that its power backend answers (read-back where it can; a power cycle with
 * `cycle`; the instrument's identity where it has one, as a SCPI supply's `*IDN?`), and that the board is there by identity (USB device enumerates, serial port
 * exists) within its enumeration timeout, and that it says who it is through its family's
 * protocol (identify.ts: bootloader ID and PID, FUS version, TKey name and version, MCUboot
 * image list). Boards leased by another run are not touched; emulated boards are identified
 * the same way through their emulators.
 *
 * A failing board is an infrastructure failure, never a firmware one: `hil run` quarantines
 * it for the run (HIL_QUARANTINE), its tests skip with the reason, the rest of the rack runs.
 * Results carry the board's identity, so one bad unit is visible.
 */

import { type LeaseBackendConfig, tryBoard } from "../lab/board-lease.js";
import { InfrastructureError, SkipScenario } from "../lab/errors.js";
import { describeHolder, type LeaseOptions, tryLease } from "../lab/lease.js";
import { describeUsb } from "../lab/locate.js";
import { usbipList } from "../transport/usbip-client.js";
import { describeUsbipRemote } from "../transport/usbip-device.js";
import type { Board } from "./board.js";
import { formatIdentity, type Identifier, type Identity, identifyBoard } from "./identify.js";
import { ROM_USB } from "./identify-stm32.js";
import { probeRemoteSerial } from "./serial-link.js";

export interface HealthStep {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  /** A failed step's rig-file line and field (`rigs/lab.yaml:7 boards[0].serial.byId`), as validation errors give them. */
  readonly where?: string;
}

export interface BoardHealth {
  readonly board: string;
  /** USB serial / port identity as the rig file gives it, for the report. */
  readonly identity: string;
  /** ok; failed (infrastructure); skipped (leased by another run, or needs a person). */
  readonly status: "ok" | "failed" | "skipped";
  readonly steps: readonly HealthStep[];
  /** What the board said about itself (bootloader, PID, serial, ...), when it was identified. */
  readonly identified?: Identity;
}

export interface HealthOptions {
  /** Power-cycle boards whose backend can (not manual). */
  readonly cycle?: boolean;
  readonly lease?: LeaseOptions;
  /** Where the run's leases live (etcd on a shared rack); default lock files with `lease`. */
  readonly leases?: LeaseBackendConfig;
  /** The identifier per family (default identify.ts's table); tests swap one in. */
  readonly identifiers?: Readonly<Record<Board["family"], Identifier>>;
}

function identityOf(board: Board): string {
  if (board.emulated) return `emulated${board.serial ? ` serial ${board.serial}` : ""}`;
  const parts: string[] = [];
  if (board.serial) parts.push(`serial ${board.serial}`);
  if (board.serialPort?.byId) parts.push(board.serialPort.byId);
  if (board.serialPort?.rfc2217) parts.push(`rfc2217 ${board.serialPort.rfc2217}`);
  if (board.serialPort?.tcp) parts.push(`tcp ${board.serialPort.tcp}`);
  if (board.usbip) parts.push(`usbip ${describeUsbipRemote(board.usbip)}`);
  return parts.join(", ") || board.id;
}

export async function checkBoard(board: Board, opts: HealthOptions = {}): Promise<BoardHealth> {
  const steps: HealthStep[] = [];
  let identified: Identity | undefined;
  const result = (status: BoardHealth["status"]): BoardHealth => ({
    board: board.id,
    identity: identityOf(board),
    status,
    steps,
    ...(identified ? { identified } : {}),
  });
  const identify = async (): Promise<boolean> => {
    try {
      identified = await identifyBoard(board, opts.identifiers);
      steps.push({ name: "identify", ok: true, detail: formatIdentity(identified) });
      return true;
    } catch (error) {
      if (error instanceof SkipScenario) {
        steps.push({ name: "identify", ok: true, detail: `not checked: ${error.message}` });
        return true;
      }
      steps.push({
        name: "identify",
        ok: false,
        detail: (error as Error).message,
        ...at(board, identifyField(board)),
      });
      return false;
    }
  };
  if (board.emulated) {
    await board.power.on();
    steps.push({ name: "power", ok: true, detail: `emulated, ${await board.power.state()}` });
    return result((await identify()) ? "ok" : "failed");
  }
  let got: Awaited<ReturnType<typeof tryBoard>> | Awaited<ReturnType<typeof tryLease>>;
  try {
    got = opts.leases
      ? await tryBoard(opts.leases, board.id)
      : await tryLease(board.id, { ...opts.lease, clock: board.clock });
  } catch (error) {
    // The lease service itself failed (etcd unreachable): the board cannot be taken safely.
    steps.push({ name: "lease", ok: false, detail: (error as Error).message });
    return result("failed");
  }
  if ("holder" in got) {
    const by = typeof got.holder === "string" ? got.holder : describeHolder(got.holder);
    steps.push({ name: "lease", ok: true, detail: `leased by ${by}: not checked` });
    return result("skipped");
  }
  try {
    const ok = await checkInfrastructure(board, steps, opts);
    // Only a board that is there is asked who it is; one that is not has its finding already.
    return result(ok && (await identify()) ? "ok" : "failed");
  } catch (error) {
    if (error instanceof SkipScenario) return result("skipped");
    throw error;
  } finally {
    await got.lease.release();
  }
}

/**
 * A lab board's infrastructure again, after one of its tests failed for the lab (its port
 * vanished, its power backend failed): power backend and instrument, USB device and serial
 * port by identity. Neither leased (the run holds the lease) nor identified: what the
 * firmware answers is the result the run is for, never a finding about the lab.
 */
export async function recheckInfrastructure(board: Board): Promise<BoardHealth> {
  const steps: HealthStep[] = [];
  let status: BoardHealth["status"];
  try {
    status = (await checkInfrastructure(board, steps, {})) ? "ok" : "failed";
  } catch (error) {
    if (!(error instanceof SkipScenario)) throw error;
    status = "skipped";
  }
  return { board: board.id, identity: identityOf(board), status, steps };
}

/**
 * Power backend (read back; cycled with `cycle`; switched on when off), the instrument's
 * identity where it has one, the USB device and the serial port by identity. Appends a step
 * each; false when one failed. A step that needs a person throws SkipScenario.
 */
async function checkInfrastructure(board: Board, steps: HealthStep[], opts: HealthOptions): Promise<boolean> {
  const step = async (
    name: string,
    field: readonly string[],
    work: () => Promise<string>,
  ): Promise<boolean> => {
    try {
      steps.push({ name, ok: true, detail: await work() });
      return true;
    } catch (error) {
      if (error instanceof SkipScenario) {
        steps.push({ name, ok: true, detail: `not checked: ${error.message}` });
        throw error;
      }
      const kind = error instanceof InfrastructureError ? "" : `${(error as Error).name}: `;
      steps.push({ name, ok: false, detail: `${kind}${(error as Error).message}`, ...at(board, field) });
      return false;
    }
  };
  const manual = board.power.backend === "manual";
  if (manual) {
    steps.push({ name: "power", ok: true, detail: "manual backend: not checked" });
  } else {
    const powerOk = await step("power", ["power"], async () => {
      const before = await board.power.state();
      if (opts.cycle) {
        await board.power.cycle();
        const after = await board.power.state();
        if (after === "off") throw new InfrastructureError(`reads back off after a power cycle`);
        return `${board.power.backend}: was ${before}, cycled, now ${after}`;
      }
      if (before === "off") {
        await board.power.on();
        return `${board.power.backend}: was off, switched on, now ${await board.power.state()}`;
      }
      return `${board.power.backend}: ${before}`;
    });
    if (!powerOk) return false;
  }
  // Instruments that can say who they are (a SCPI supply's *IDN?) do: the wrong supply on a port is visible.
  const instrumentId = (board.power as { identify?: () => Promise<string> }).identify;
  if (!manual && typeof instrumentId === "function") {
    if (!(await step("power identify", ["power"], () => instrumentId.call(board.power)))) return false;
  }
  const locator = board.locator;
  let ok = true;
  if (locator?.hasUsb && isStm32Rom(board)) {
    // The rig file names the ROM's DFU identity, which a board running its application does
    // not show: identify enters the ROM and finds it there; waiting for it here would
    // quarantine every board that is simply running its firmware.
    steps.push({
      name: "usb",
      ok: true,
      detail: "not checked: 0483:df11 is the ROM bootloader's, present only in it",
    });
  } else if (locator?.hasUsb)
    ok =
      (await step("usb", ["usb"], async () => {
        const d = await locator.usbDevice();
        return `${describeUsb({ vid: d.vid, pid: d.pid, serial: d.serial, port: d.port })}${d.product ? ` (${d.product})` : ""}`;
      })) && ok;
  if (board.usbip) ok = (await step("usbip", ["usb", "usbip"], () => checkUsbip(board))) && ok;
  if (locator?.hasSerialPort) {
    const remote = locator.remoteSerial;
    const kind = remote?.kind ?? (board.serialPort?.byId !== undefined ? "byId" : "usbSerial");
    ok =
      (await step("serial", ["serial", kind], () =>
        remote ? probeRemoteSerial(board) : locator.serialPort(),
      )) && ok;
  }
  return ok;
}

/**
 * The board's USB/IP server answers OP_REQ_DEVLIST and exports its bus id. An STM32 whose USB
 * is its ROM's may show nothing while its application runs: identify enters the ROM and
 * imports it there. @throws {InfrastructureError} naming host and port.
 */
async function checkUsbip(board: Board): Promise<string> {
  const remote = board.usbip!;
  let devices: Awaited<ReturnType<typeof usbipList>>;
  try {
    devices = await usbipList({
      host: remote.host,
      port: remote.port,
      clock: board.clock,
      ...(board.timeouts ? { timeoutMs: board.timeouts.commandMs } : {}),
    });
  } catch (error) {
    throw new InfrastructureError(
      `USB/IP server ${remote.host}:${remote.port} of board ${board.id}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const device = devices.find((d) => d.busid === remote.busid);
  const hex4 = (n: number) => n.toString(16).padStart(4, "0");
  if (device)
    return `${describeUsbipRemote(remote)}: ${hex4(device.idVendor)}:${hex4(device.idProduct)} exported`;
  const others = devices.map((d) => d.busid).join(", ") || "none";
  if (board.family.startsWith("stm32") && board.capabilities.has("usb-dfu"))
    return `${describeUsbipRemote(remote)}: server answers; busid not exported now (exports: ${others}), the ROM is imported by identify`;
  throw new InfrastructureError(
    `USB/IP server ${remote.host}:${remote.port} exports no busid ${remote.busid} now (exports: ${others}; an imported device is not listed)`,
  );
}

/** Checks boards one after another (they may share a hub or relay board). */
export async function checkRig(boards: readonly Board[], opts: HealthOptions = {}): Promise<BoardHealth[]> {
  const out: BoardHealth[] = [];
  for (const board of boards) out.push(await checkBoard(board, opts));
  return out;
}

/** `board wb55-nucleo (serial 206B...): FAILED [infrastructure]` and one indented line per step. */
export function formatHealth(health: BoardHealth): string {
  const head =
    health.status === "failed" ? "FAILED [infrastructure]" : health.status === "skipped" ? "skipped" : "ok";
  const lines = [`  ${health.board} (${health.identity}): ${head}`];
  for (const s of health.steps) lines.push(`      ${s.ok ? "ok  " : "FAIL"} ${s.name}: ${detailOf(s)}`);
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------
// Quarantine for one run

export const QUARANTINE_ENV = "HIL_QUARANTINE";

/** What failed in a check: `usb: did not appear (rigs/lab.yaml:6 boards[0].usb); serial: ...`. */
export function findingOf(health: BoardHealth): string {
  return health.steps
    .filter((s) => !s.ok)
    .map((s) => `${s.name}: ${detailOf(s)}`)
    .join("; ");
}

/** A step's detail, followed by the rig-file line and field it is about when it failed. */
function detailOf(step: HealthStep): string {
  return step.where ? `${step.detail} (${step.where})` : step.detail;
}

/** `{ where }` for a failed step about `field` of a board loaded from a rig file; empty otherwise. */
function at(board: Board, field: readonly string[]): { where?: string } {
  return board.where ? { where: board.where(field) } : {};
}

/** What identify talks through: the USB DFU ROM, else the serial port, else the USB device; the entry when neither. */
function identifyField(board: Board): string[] {
  if (board.family.startsWith("stm32") && board.capabilities.has("usb-dfu") && board.locator?.hasUsb)
    return ["usb"];
  if (board.locator?.hasSerialPort) return ["serial"];
  if (board.locator?.hasUsb) return ["usb"];
  return [];
}

/** Boards failing their check, as `hil run` hands them to the suites: JSON `{ id: finding }`. */
export function quarantineOf(results: readonly BoardHealth[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of results) if (r.status === "failed") out[r.board] = findingOf(r);
  return out;
}

/** Identities read by the check, as `hil run` hands them to the suites (identify.ts IDENTITY_ENV): JSON `{ id: identity }`. */
export function identitiesOf(results: readonly BoardHealth[]): Record<string, Identity> {
  const out: Record<string, Identity> = {};
  for (const r of results) if (r.identified) out[r.board] = r.identified;
  return out;
}

/** Boards quarantined by this process during the run (recheck-hooks.ts), with why. */
const quarantinedMidRun = new Map<string, string>();

/** Boards this process quarantined during the run, with why: for the run's closing summary. */
export function quarantinedDuringRun(): ReadonlyMap<string, string> {
  return quarantinedMidRun;
}

/** Quarantines `boardId` for the rest of this process's run; `why` completes "quarantined for this run: ...". */
export function quarantineBoard(boardId: string, why: string): void {
  quarantinedMidRun.set(boardId, why);
}

/**
 * Why `boardId` is quarantined in this run, completing "quarantined for this run: ...": its
 * start-of-run check failed (HIL_QUARANTINE), or a re-check after a test failed; undefined
 * when it is not.
 */
export function quarantineReason(boardId: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const midRun = quarantinedMidRun.get(boardId);
  if (midRun !== undefined) return midRun;
  const text = env[QUARANTINE_ENV];
  if (!text) return undefined;
  try {
    const finding = (JSON.parse(text) as Record<string, string>)[boardId];
    return finding === undefined ? undefined : `its health check failed (${finding})`;
  } catch {
    return undefined;
  }
}

/** An STM32 board whose rig-file USB identity is its ROM bootloader's (0483:df11). */
function isStm32Rom(board: Board): boolean {
  const usb = board.locator?.usb;
  return (
    (board.family === "stm32l432" || board.family === "stm32wb55") &&
    usb?.vid === ROM_USB.vendorId &&
    usb.pid === ROM_USB.productId
  );
}
