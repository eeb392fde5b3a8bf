/**
 * A user-space USB/IP client (the importer's side, what `usbip list -r` / `usbip attach` and
 * vhci-hcd do): lists and imports a device, then submits control URBs and unlinks them. No
 * kernel involved; every wait has a timeout. `usbip-device.ts` builds a WebUSB device on it;
 * tests and the bench use it raw.
 *
 * Replies are checked against what was asked (version, busid, seqnum, lengths): a server
 * that answers something else ends the import with a {@link UsbipProtocolError} naming the
 * field, kept in {@link UsbipImport.failure}.
 */
import { connect, type Socket } from "node:net";
import {
  type CmdSubmit,
  DEVICE_RECORD_SIZE,
  decodeDeviceRecord,
  decodeOpHeader,
  decodeRepDevlistBody,
  decodeUrb,
  devid,
  encodeReqDevlist,
  encodeReqImport,
  encodeSetup,
  encodeUrb,
  OP_HEADER_SIZE,
  OpCode,
  type OpHeader,
  type RetSubmit,
  type SetupPacket,
  UrbCommand,
  USBIP_VERSION,
  type UsbipDevice,
  type UsbipDeviceListing,
  UsbipProtocolError,
} from "../protocol/usbip/index.js";
import { InfrastructureError } from "../seams/errors.js";
import { type Clock, WallClock, withTimeout } from "./clock.js";
import { SocketReader } from "./socket-reader.js";

export interface UsbipClientOptions {
  host?: string;
  port: number;
  /** Per wait (connect, reply), default 5 s. */
  timeoutMs?: number;
  clock?: Clock;
}

/** The USB/IP server at host:port refused the connection or did not answer in time. */
export class UsbipUnreachableError extends InfrastructureError {
  constructor(
    readonly host: string,
    readonly port: number,
    cause: unknown,
  ) {
    super(`USB/IP server ${host}:${port} does not answer: ${(cause as Error).message}`, { cause });
    this.name = "UsbipUnreachableError";
  }
}

/** OP_REP_IMPORT with a non-zero status: the busid is not exported now, or another host imported it. */
export class UsbipImportRefusedError extends InfrastructureError {
  constructor(
    readonly busid: string,
    readonly status: number,
    at: string,
  ) {
    super(
      `USB/IP server ${at} refused the import of ${busid} (status ${status}): not exported now, or imported elsewhere`,
    );
    this.name = "UsbipImportRefusedError";
  }
}

function address(opts: UsbipClientOptions): string {
  return `${opts.host ?? "127.0.0.1"}:${opts.port}`;
}

async function open(
  opts: UsbipClientOptions,
): Promise<{ socket: Socket; reader: SocketReader; clock: Clock }> {
  const clock = opts.clock ?? new WallClock();
  const host = opts.host ?? "127.0.0.1";
  const socket = connect({ host, port: opts.port });
  socket.setNoDelay(true);
  const reader = new SocketReader(socket);
  try {
    await withTimeout(
      clock,
      opts.timeoutMs ?? 5000,
      `a USB/IP connection to ${host}:${opts.port}`,
      new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      }),
    );
  } catch (e) {
    socket.destroy();
    throw new UsbipUnreachableError(host, opts.port, e);
  }
  // Errors after connecting end the reads (SocketReader sees "close"); they need no handler of their own.
  socket.on("error", () => {});
  return { socket, reader, clock };
}

/** The operation header a reply must have: USB/IP 1.1.1, the expected code. */
function checkReplyHeader(header: OpHeader, code: number, what: string): void {
  if (header.version !== USBIP_VERSION)
    throw new UsbipProtocolError(
      `${what}: version 0x${header.version.toString(16).padStart(4, "0")}, expected 0x${USBIP_VERSION.toString(16).padStart(4, "0")}`,
    );
  if (header.code !== code)
    throw new UsbipProtocolError(
      `${what} expected: code 0x${header.code.toString(16).padStart(4, "0")}, expected 0x${code.toString(16).padStart(4, "0")}`,
    );
}

/** An operation reply, or a clear error when the server closes the connection first. */
async function readOrClosed(reader: SocketReader, n: number, what: string, at: string): Promise<Uint8Array> {
  try {
    return await reader.read(n);
  } catch {
    throw new UsbipProtocolError(`${what}: the server ${at} closed the connection`);
  }
}

/** OP_REQ_DEVLIST: the devices the server exports now. */
export async function usbipList(opts: UsbipClientOptions): Promise<UsbipDeviceListing[]> {
  const { socket, reader, clock } = await open(opts);
  try {
    socket.write(encodeReqDevlist());
    const timeout = opts.timeoutMs ?? 5000;
    const header = decodeOpHeader(
      await withTimeout(
        clock,
        timeout,
        `OP_REP_DEVLIST from ${address(opts)}`,
        readOrClosed(reader, OP_HEADER_SIZE, "OP_REP_DEVLIST", address(opts)),
      ),
    );
    checkReplyHeader(header, OpCode.REP_DEVLIST, "OP_REP_DEVLIST");
    if (header.status !== 0) throw new UsbipProtocolError(`OP_REP_DEVLIST: status ${header.status}`);
    const devices = await withTimeout(
      clock,
      timeout,
      "the device list",
      reader.next((b) => {
        const body = decodeRepDevlistBody(b);
        return body && { message: body.devices, size: body.size };
      }),
    );
    if (!devices) throw new UsbipProtocolError("connection closed inside OP_REP_DEVLIST");
    return devices;
  } finally {
    socket.destroy();
  }
}

/** The reply to a control URB. */
export interface ControlReply {
  status: number;
  actualLength: number;
  data: Uint8Array;
}

/** An imported device: control URBs on endpoint 0. */
export class UsbipImport {
  #seqnum = 0;
  readonly #pending = new Map<
    number,
    { direction: number; length: number; resolve: (m: RetSubmit | { unlink: number }) => void }
  >();
  readonly closed: Promise<void>;
  #closedFlag = false;
  #failure: UsbipProtocolError | undefined;

  private constructor(
    readonly socket: Socket,
    readonly reader: SocketReader,
    readonly device: UsbipDevice,
    readonly clock: Clock,
    readonly timeoutMs: number,
  ) {
    this.closed = this.#receive();
  }

  /**
   * OP_REQ_IMPORT of `busid`.
   * @throws {UsbipImportRefusedError} if the server refuses (status ≠ 0).
   * @throws {UsbipUnreachableError} if the server does not answer the connection.
   * @throws {UsbipProtocolError} for a reply that is no OP_REP_IMPORT of `busid`.
   */
  static async attach(busid: string, opts: UsbipClientOptions): Promise<UsbipImport> {
    const { socket, reader, clock } = await open(opts);
    const timeout = opts.timeoutMs ?? 5000;
    try {
      socket.write(encodeReqImport(busid));
      const header = decodeOpHeader(
        await withTimeout(
          clock,
          timeout,
          `OP_REP_IMPORT from ${address(opts)}`,
          readOrClosed(reader, OP_HEADER_SIZE, "OP_REP_IMPORT", address(opts)),
        ),
      );
      checkReplyHeader(header, OpCode.REP_IMPORT, "OP_REP_IMPORT");
      if (header.status !== 0) throw new UsbipImportRefusedError(busid, header.status, address(opts));
      const device = decodeDeviceRecord(
        await withTimeout(
          clock,
          timeout,
          "the imported device record",
          readOrClosed(reader, DEVICE_RECORD_SIZE, "OP_REP_IMPORT device record", address(opts)),
        ),
      );
      if (device.busid !== busid)
        throw new UsbipProtocolError(`OP_REP_IMPORT: busid '${device.busid}', expected '${busid}'`);
      return new UsbipImport(socket, reader, device, clock, timeout);
    } catch (e) {
      socket.destroy();
      throw e;
    }
  }

  get isClosed(): boolean {
    return this.#closedFlag;
  }

  /** Why the import ended, when the server's bytes were no valid reply. */
  get failure(): UsbipProtocolError | undefined {
    return this.#failure;
  }

  /**
   * Sends a CMD_SUBMIT for a control transfer; `data` is the OUT stage (IN when omitted).
   * @returns its seqnum and the reply (undefined if the URB was unlinked or the connection closed).
   */
  submit(
    setup: SetupPacket,
    data?: Uint8Array,
  ): { seqnum: number; reply: Promise<ControlReply | undefined> } {
    const seqnum = ++this.#seqnum;
    const direction = (setup.bmRequestType & 0x80) !== 0 ? 1 : 0;
    const out = direction === 0 ? (data ?? new Uint8Array(0)) : new Uint8Array(0);
    const cmd: CmdSubmit = {
      command: UrbCommand.CMD_SUBMIT,
      seqnum,
      devid: devid(this.device),
      direction,
      ep: 0,
      transferFlags: 0,
      transferBufferLength: direction === 1 ? setup.wLength : out.length,
      startFrame: 0,
      numberOfPackets: 0,
      interval: 0,
      setup: encodeSetup(setup),
      data: out,
    };
    const reply = new Promise<ControlReply | undefined>((resolve) => {
      if (this.#closedFlag) return resolve(undefined);
      this.#pending.set(seqnum, {
        direction,
        length: cmd.transferBufferLength,
        resolve: (m) =>
          resolve(
            "unlink" in m ? undefined : { status: m.status, actualLength: m.actualLength, data: m.data },
          ),
      });
    });
    this.socket.write(encodeUrb(cmd));
    return { seqnum, reply };
  }

  /** A control transfer, waited for with the client's timeout. @throws {Error} if the connection closes first. */
  async control(setup: SetupPacket, data?: Uint8Array): Promise<ControlReply> {
    const r = await withTimeout(this.clock, this.timeoutMs, "RET_SUBMIT", this.submit(setup, data).reply);
    if (!r) throw new Error("the connection closed before RET_SUBMIT");
    return r;
  }

  /** CMD_UNLINK of `seqnum`: resolves with RET_UNLINK's status (−104 unlinked, 0 already done). */
  async unlink(target: number): Promise<number> {
    const seqnum = ++this.#seqnum;
    const status = new Promise<number>((resolve) => {
      this.#pending.set(seqnum, {
        direction: 0,
        length: 0,
        resolve: (m) => resolve("unlink" in m ? m.unlink : Number.NaN),
      });
    });
    this.socket.write(
      encodeUrb({
        command: UrbCommand.CMD_UNLINK,
        seqnum,
        devid: devid(this.device),
        direction: 0,
        ep: 0,
        unlinkSeqnum: target,
      }),
    );
    return withTimeout(this.clock, this.timeoutMs, "RET_UNLINK", status);
  }

  /** Writes raw bytes (tests of the server's handling of bad packets). */
  writeRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  close(): Promise<void> {
    this.socket.end();
    return withTimeout(this.clock, this.timeoutMs, "the USB/IP connection to close", this.closed).catch(
      () => {
        this.socket.destroy();
      },
    );
  }

  async #receive(): Promise<void> {
    try {
      for (;;) {
        const m = await this.reader.next((b) => decodeUrb(b, (s) => this.#pending.get(s)?.direction));
        if (!m) break;
        const waiter = this.#pending.get(m.seqnum);
        if (m.command === UrbCommand.RET_SUBMIT) {
          // An unlinked URB may still be answered (the race usbip's stub has too): no waiter then.
          if (waiter && m.actualLength > waiter.length)
            throw new UsbipProtocolError(
              `RET_SUBMIT seqnum ${m.seqnum}: actual_length ${m.actualLength} exceeds transfer_buffer_length ${waiter.length}`,
            );
          this.#pending.delete(m.seqnum);
          waiter?.resolve(m);
        } else if (m.command === UrbCommand.RET_UNLINK) {
          this.#pending.delete(m.seqnum);
          waiter?.resolve({ unlink: m.status });
        } else
          throw new UsbipProtocolError(
            `command ${m.command === UrbCommand.CMD_SUBMIT ? "CMD_SUBMIT" : "CMD_UNLINK"} (seqnum ${m.seqnum}) from the server: only RET_SUBMIT and RET_UNLINK go that way`,
          );
      }
    } catch (e) {
      this.#failure =
        e instanceof UsbipProtocolError ? e : new UsbipProtocolError(`receiving: ${(e as Error).message}`);
      this.socket.destroy();
    } finally {
      this.#closedFlag = true;
      for (const w of this.#pending.values()) w.resolve({ unlink: Number.NaN });
      this.#pending.clear();
    }
  }
}
