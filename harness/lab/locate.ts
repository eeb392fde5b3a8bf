/**
 * Finding lab devices by identity, never by a /dev/ttyACMn or bus/device number: those
 * change whenever a board re-enumerates, which an update does several times.
 *
 * - Serial ports: a `/dev/serial/by-id/...` link, or the USB serial number of the adapter
 *   (udev names its links `usb-<vendor>_<product>_<serial>-if<NN>[-port<N>]`).
 * - USB devices: VID/PID (+ serial number), or the physical port path (`3-1.4`) read
 *   from sysfs, which stays the same across re-enumeration while the device number changes.
 *
 * Every look is re-done after each power cycle / reset / leave (callers never keep a path
 * or handle across one); waits poll on the board's Clock with a timeout and then a settle
 * delay (opening a port right after it appears can fail with EBUSY). A device that does not
 * come back is an {@link InfrastructureError} listing what *was* there.
 *
 * The two roots can be moved for tests: HIL_SERIAL_BY_ID_DIR (default /dev/serial/by-id;
 * a `byId` link is then looked up by its name there) and HIL_SYSFS_USB_DIR (default
 * /sys/bus/usb/devices).
 */
import { lstat, readdir, readFile, readlink, realpath } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import type { Clock } from "../transport/clock.js";
import { connectTcp, parseEndpoint } from "../transport/tcp-stream.js";
import type { UsbFilter } from "../transport/usb.js";
import { InfrastructureError } from "./errors.js";

export const BY_ID_DIR = "/dev/serial/by-id";
export const SYSFS_USB_DIR = "/sys/bus/usb/devices";

export function byIdDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.HIL_SERIAL_BY_ID_DIR || BY_ID_DIR;
}

export function sysfsUsbDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.HIL_SYSFS_USB_DIR || SYSFS_USB_DIR;
}

/** Identity of a serial port as the rig file gives it. */
export interface SerialIdentity {
  readonly byId?: string | undefined;
  readonly usbSerial?: string | undefined;
  /** "host:port" of ser2net's telnet(rfc2217) accepter on a rack host: a stable name, nothing to find. */
  readonly rfc2217?: string | undefined;
  /** "host:port" of a raw TCP port serving the line's bytes. */
  readonly tcp?: string | undefined;
}

/** The rack host's address of a port served over the network, or undefined for a local port. */
export function remoteSerial(
  identity: SerialIdentity,
): { kind: "rfc2217" | "tcp"; address: string } | undefined {
  if (identity.rfc2217 !== undefined) return { kind: "rfc2217", address: identity.rfc2217 };
  if (identity.tcp !== undefined) return { kind: "tcp", address: identity.tcp };
  return undefined;
}

/** Identity of a USB device as the rig file gives it (vid/pid as numbers). */
export interface UsbIdentityLike {
  readonly vid: number;
  readonly pid: number;
  readonly serial?: string | undefined;
  readonly port?: string | undefined;
}

export interface WaitOptions {
  readonly clock: Clock;
  /** Longest wait for the device to (re)appear. */
  readonly timeoutMs: number;
  /** Wait after it appears, before it is used. */
  readonly settleMs?: number;
  /** Poll interval (default 50 ms of `clock`). */
  readonly pollMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** "/dev/serial/by-id/usb-..." or "USB serial FT6ZK3QB", for messages. */
export function describeSerial(identity: SerialIdentity): string {
  const remote = remoteSerial(identity);
  if (remote) return `${remote.kind} ${remote.address}`;
  return identity.byId ?? `the serial port of USB serial ${identity.usbSerial}`;
}

/** The by-id entries present now (names only); empty when the directory does not exist. */
export async function listByIdEntries(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  return (await readdir(byIdDir(env)).catch(() => [] as string[])).sort();
}

/**
 * One look: the path to open for `identity`, or undefined when it is not there now. The
 * path is the by-id link itself (stable), not what it points at.
 */
export async function findSerialPort(
  identity: SerialIdentity,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const dir = byIdDir(env);
  if (identity.byId !== undefined) {
    const link = dir === BY_ID_DIR ? identity.byId : join(dir, basename(identity.byId));
    // realpath fails for a dangling link (the tty went away but udev has not removed the link yet).
    return (await realpath(link).then(
      () => true,
      () => false,
    ))
      ? link
      : undefined;
  }
  if (identity.usbSerial !== undefined) {
    const names = await listByIdEntries(env);
    const hit = names.find((n) => n.includes(`_${identity.usbSerial}-if`));
    if (!hit) return undefined;
    const link = join(dir, hit);
    return (await realpath(link).then(
      () => true,
      () => false,
    ))
      ? link
      : undefined;
  }
  throw new Error("serial identity names neither byId nor usbSerial");
}

/** The by-id link of `identity` where it is there but leads nowhere, with what it points at. */
export async function danglingLink(
  identity: SerialIdentity,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ link: string; target: string } | undefined> {
  const dir = byIdDir(env);
  let link: string | undefined;
  if (identity.byId !== undefined)
    link = dir === BY_ID_DIR ? identity.byId : join(dir, basename(identity.byId));
  else if (identity.usbSerial !== undefined) {
    const hit = (await listByIdEntries(env)).find((n) => n.includes(`_${identity.usbSerial}-if`));
    if (hit) link = join(dir, hit);
  }
  if (link === undefined) return undefined;
  const isLink = await lstat(link).then(
    (s) => s.isSymbolicLink(),
    () => false,
  );
  if (!isLink) return undefined;
  const leads = await realpath(link).then(
    () => true,
    () => false,
  );
  if (leads) return undefined;
  const target = await readlink(link).catch(() => undefined);
  if (target === undefined) return undefined;
  // udev writes relative targets (../../ttyACM0): shown resolved, as a path one can look for.
  return { link, target: resolve(dir, target) };
}

/**
 * Waits for the serial port of `identity` to exist, then the settle delay.
 * @throws {InfrastructureError} after `timeoutMs`, naming `owner` and listing the by-id entries
 *   seen; a link that is there but dangles is said to, with where it points.
 */
export async function waitForSerialPort(
  owner: string,
  identity: SerialIdentity,
  opts: WaitOptions,
): Promise<string> {
  const env = opts.env ?? process.env;
  const path = await poll(opts, () => findSerialPort(identity, env));
  if (path === undefined) {
    const seen = await listByIdEntries(env);
    const listing = `${byIdDir(env)} has ${seen.length ? seen.join(", ") : "nothing"}`;
    // A link that is listed but leads nowhere: the tty went away and udev kept the link.
    const dangling = await danglingLink(identity, env);
    if (dangling)
      throw new InfrastructureError(
        `${owner}: ${dangling.link} is a dangling link to ${dangling.target}, which does not exist ` +
          `(waited ${opts.timeoutMs} ms); ${listing}`,
      );
    throw new InfrastructureError(
      `${owner}: ${describeSerial(identity)} did not appear within ${opts.timeoutMs} ms; ${listing}`,
    );
  }
  if (opts.settleMs) await opts.clock.sleep(opts.settleMs);
  return path;
}

/** Waits until the serial port of `identity` is gone (after power off); false when it stayed. */
export async function waitForSerialPortGone(identity: SerialIdentity, opts: WaitOptions): Promise<boolean> {
  const env = opts.env ?? process.env;
  const gone = await poll(opts, async () =>
    (await findSerialPort(identity, env)) === undefined ? true : undefined,
  );
  return gone === true;
}

// ---------------------------------------------------------------------------------------
// USB devices through sysfs

/** One USB device as sysfs shows it. `port` is the sysfs name (`3-1.4`); `devnum` changes on re-enumeration. */
export interface UsbSeen {
  readonly port: string;
  readonly vid: number;
  readonly pid: number;
  readonly serial: string | undefined;
  readonly busnum: number;
  readonly devnum: number;
  readonly product: string | undefined;
}

/** "0483:df11 serial 2079327A5543 at 1-1.3" for messages. */
export function describeUsb(identity: UsbIdentityLike): string {
  const hex4 = (v: number) => v.toString(16).padStart(4, "0");
  return (
    `USB ${hex4(identity.vid)}:${hex4(identity.pid)}` +
    (identity.serial ? ` serial ${identity.serial}` : "") +
    (identity.port ? ` at port ${identity.port}` : "")
  );
}

function describeSeen(d: UsbSeen): string {
  const hex4 = (v: number) => v.toString(16).padStart(4, "0");
  return `${d.port} ${hex4(d.vid)}:${hex4(d.pid)}${d.serial ? ` serial ${d.serial}` : ""}${d.product ? ` (${d.product})` : ""}`;
}

/** USB devices present now (interfaces such as `1-1.3:1.0` and root hubs left out). */
export async function listUsbDevices(env: NodeJS.ProcessEnv = process.env): Promise<UsbSeen[]> {
  const root = sysfsUsbDir(env);
  const names = await readdir(root).catch(() => [] as string[]);
  const devices = await Promise.all(
    names.filter((n) => /^\d+-\d+(\.\d+)*$/.test(n)).map((n) => readUsbDevice(root, n)),
  );
  return devices.filter((d): d is UsbSeen => d !== undefined).sort((a, b) => a.port.localeCompare(b.port));
}

async function readUsbDevice(root: string, port: string): Promise<UsbSeen | undefined> {
  const attr = (name: string) =>
    readFile(join(root, port, name), "utf8").then(
      (text) => text.trim(),
      () => undefined,
    );
  const [vid, pid, serial, busnum, devnum, product] = await Promise.all(
    ["idVendor", "idProduct", "serial", "busnum", "devnum", "product"].map(attr),
  );
  // Half-written while the device enumerates: not there yet.
  if (vid === undefined || pid === undefined || busnum === undefined || devnum === undefined)
    return undefined;
  return {
    port,
    vid: Number.parseInt(vid, 16),
    pid: Number.parseInt(pid, 16),
    serial,
    busnum: Number(busnum),
    devnum: Number(devnum),
    product,
  };
}

export function matchesUsb(device: UsbSeen, identity: UsbIdentityLike): boolean {
  return (
    device.vid === identity.vid &&
    device.pid === identity.pid &&
    (identity.serial === undefined || device.serial === identity.serial) &&
    (identity.port === undefined || device.port === identity.port)
  );
}

/** One look for the USB device of `identity`; undefined when absent, an error when two match (ambiguous identity). */
export async function findUsbDevice(
  identity: UsbIdentityLike,
  env: NodeJS.ProcessEnv = process.env,
): Promise<UsbSeen | undefined> {
  const hits = (await listUsbDevices(env)).filter((d) => matchesUsb(d, identity));
  if (hits.length > 1)
    throw new InfrastructureError(
      `${describeUsb(identity)} is ambiguous: ${hits.map(describeSeen).join("; ")} match; add usb.serial or usb.port to the rig file`,
    );
  return hits[0];
}

export interface UsbWaitOptions extends WaitOptions {
  /** The enumeration seen before a reset: a device with the same bus and device number is the stale one. */
  readonly notSame?: UsbSeen | undefined;
}

/**
 * Waits for the USB device of `identity` (a new enumeration when `notSame` is given), then
 * the settle delay.
 * @throws {InfrastructureError} after `timeoutMs`, naming `owner` and listing the USB devices seen.
 */
export async function waitForUsbDevice(
  owner: string,
  identity: UsbIdentityLike,
  opts: UsbWaitOptions,
): Promise<UsbSeen> {
  const env = opts.env ?? process.env;
  const stale = opts.notSame;
  const found = await poll(opts, async () => {
    const d = await findUsbDevice(identity, env);
    if (d && stale && d.busnum === stale.busnum && d.devnum === stale.devnum) return undefined;
    return d;
  });
  if (!found) {
    const seen = await listUsbDevices(env);
    throw new InfrastructureError(
      `${owner}: ${describeUsb(identity)} did not ${stale ? "re-enumerate" : "appear"} within ${opts.timeoutMs} ms; ` +
        `on the bus: ${seen.length ? seen.map(describeSeen).join("; ") : "no USB devices"}`,
    );
  }
  if (opts.settleMs) await opts.clock.sleep(opts.settleMs);
  return found;
}

/** Polls `look` on the clock until it returns a value or the time is up (one last look at the deadline). */
async function poll<T>(opts: WaitOptions, look: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = opts.clock.now() + opts.timeoutMs;
  for (;;) {
    const value = await look();
    if (value !== undefined) return value;
    const left = deadline - opts.clock.now();
    if (left <= 0) return undefined;
    await opts.clock.sleep(Math.min(opts.pollMs ?? 50, left));
  }
}

// ---------------------------------------------------------------------------------------
// One board

/** What a locator needs of a lab board's rig-file entry (schema.ts's LabBoardSpec fits). */
export interface LocatableBoard {
  readonly id: string;
  readonly usb: UsbIdentityLike | undefined;
  readonly serial: SerialIdentity | undefined;
  readonly timeouts: { readonly enumerateMs: number; readonly settleMs: number };
}

/**
 * A lab board's devices, found again at every call with the board's enumeration timeout
 * and settle delay. After a power cycle, reset or leave: close the old port/handle, then
 * ask here again (`usbDevice({ notSame })` waits for the new enumeration).
 */
export class BoardLocator {
  constructor(
    private readonly board: LocatableBoard,
    private readonly clock: Clock,
    private readonly env?: NodeJS.ProcessEnv,
  ) {}

  get hasSerialPort(): boolean {
    return this.board.serial !== undefined;
  }

  get hasUsb(): boolean {
    return this.board.usb !== undefined;
  }

  /** The USB identity from the rig file (VID/PID, serial, port path), for clients that open the device. */
  get usb(): UsbIdentityLike | undefined {
    return this.board.usb;
  }

  /**
   * A WebUSB filter (UsbBus.waitFor, DfuClient.open) for this board: the rig file's VID/PID,
   * or `ids` for another personality of the same board (the ROM's 0483:df11 after BOOT0). The
   * physical port path, when the rig file gives one, goes into every filter: it stays the same
   * across re-enumeration and tells apart two boards in DFU mode sharing VID:PID. The serial
   * number goes in only for the rig file's own VID/PID (another personality may report another).
   * @throws {InfrastructureError} without `ids` on a board whose rig file has no USB identity.
   */
  usbFilter(ids?: { vendorId: number; productId: number }): UsbFilter {
    const usb = this.board.usb;
    const wanted = ids ?? (usb ? { vendorId: usb.vid, productId: usb.pid } : undefined);
    if (!wanted) throw new InfrastructureError(`board ${this.board.id}: no USB identity in the rig file`);
    const same = usb !== undefined && usb.vid === wanted.vendorId && usb.pid === wanted.productId;
    return {
      ...wanted,
      ...(same && usb.serial ? { serialNumber: usb.serial } : {}),
      ...(usb?.port ? { portPath: usb.port } : {}),
    };
  }

  /** A port served by a rack host (rfc2217 / tcp): opened by address, never looked for. */
  get remoteSerial(): { kind: "rfc2217" | "tcp"; address: string } | undefined {
    return this.board.serial ? remoteSerial(this.board.serial) : undefined;
  }

  /**
   * Path of the board's serial port once it exists (and has settled); for a port served
   * over the network, "rfc2217 host:port" once `probeRemote` (default: one connection) says
   * it answers. @throws {InfrastructureError} naming the path, or the host and port.
   */
  async serialPort(
    opts: { timeoutMs?: number; probeRemote?: (address: string) => Promise<void> } = {},
  ): Promise<string> {
    const identity = this.board.serial;
    if (!identity) throw new InfrastructureError(`board ${this.board.id}: no serial port in the rig file`);
    const remote = remoteSerial(identity);
    if (remote) {
      const probe =
        opts.probeRemote ??
        (async (address: string) => {
          const socket = await connectTcp(parseEndpoint(address), {
            what: `board ${this.board.id}: ${remote.kind}`,
            clock: this.clock,
            timeoutMs: opts.timeoutMs ?? this.board.timeouts.enumerateMs,
          });
          socket.destroy();
        });
      await probe(remote.address);
      return describeSerial(identity);
    }
    return waitForSerialPort(`board ${this.board.id}`, identity, this.#wait(opts.timeoutMs));
  }

  /** The board's USB device once it is there (a new enumeration with `notSame`). @throws {InfrastructureError} */
  usbDevice(opts: { timeoutMs?: number; notSame?: UsbSeen | undefined } = {}): Promise<UsbSeen> {
    const identity = this.board.usb;
    if (!identity)
      return Promise.reject(
        new InfrastructureError(`board ${this.board.id}: no USB identity in the rig file`),
      );
    return waitForUsbDevice(`board ${this.board.id}`, identity, {
      ...this.#wait(opts.timeoutMs),
      notSame: opts.notSame,
    });
  }

  /** One look, no waiting: the serial port path and USB device present now (for health checks). */
  async present(): Promise<{ serialPort: string | undefined; usb: UsbSeen | undefined }> {
    const env = this.env ?? process.env;
    return {
      serialPort: !this.board.serial
        ? undefined
        : remoteSerial(this.board.serial)
          ? describeSerial(this.board.serial)
          : await findSerialPort(this.board.serial, env),
      usb: this.board.usb ? await findUsbDevice(this.board.usb, env) : undefined,
    };
  }

  #wait(timeoutMs: number | undefined): WaitOptions {
    return {
      clock: this.clock,
      timeoutMs: timeoutMs ?? this.board.timeouts.enumerateMs,
      settleMs: this.board.timeouts.settleMs,
      ...(this.env ? { env: this.env } : {}),
    };
  }
}

/**
 * The USB filter that finds `board` in the personality `ids` (ROM bootloader, application):
 * on a lab board the rig file's serial number and port path through its locator (two ROMs
 * with the same VID:PID on one host stay apart); on an emulated board its serial.
 */
export function usbFilterOf(
  board: { locator?: BoardLocator | undefined; serial?: string | undefined },
  ids: { vendorId: number; productId: number },
): UsbFilter {
  if (board.locator) return board.locator.usbFilter(ids);
  return { ...ids, ...(board.serial ? { serialNumber: board.serial } : {}) };
}
