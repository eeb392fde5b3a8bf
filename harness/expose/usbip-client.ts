/**
 * A small USB/IP client (the importer's side, what `usbip list -r` / `usbip attach` and
 * vhci-hcd do), for tests and the bench: lists and imports a device, then submits control
 * URBs and unlinks them. No kernel involved; every wait has a timeout.
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
  type RetSubmit,
  type SetupPacket,
  UrbCommand,
  type UsbipDevice,
  type UsbipDeviceListing,
  UsbipProtocolError,
} from "../protocol/usbip/index.js";
import { type Clock, WallClock, withTimeout } from "../transport/clock.js";
import { SocketReader } from "./usbip-server.js";

export interface UsbipClientOptions {
  host?: string;
  port: number;
  /** Per wait (connect, reply), default 5 s. */
  timeoutMs?: number;
  clock?: Clock;
}

async function open(
  opts: UsbipClientOptions,
): Promise<{ socket: Socket; reader: SocketReader; clock: Clock }> {
  const clock = opts.clock ?? new WallClock();
  const socket = connect({ host: opts.host ?? "127.0.0.1", port: opts.port });
  socket.setNoDelay(true);
  const reader = new SocketReader(socket);
  try {
    await withTimeout(
      clock,
      opts.timeoutMs ?? 5000,
      `a USB/IP connection to ${opts.host ?? "127.0.0.1"}:${opts.port}`,
      new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      }),
    );
  } catch (e) {
    socket.destroy();
    throw e;
  }
  return { socket, reader, clock };
}

/** OP_REQ_DEVLIST: the devices the server exports now. */
export async function usbipList(opts: UsbipClientOptions): Promise<UsbipDeviceListing[]> {
  const { socket, reader, clock } = await open(opts);
  try {
    socket.write(encodeReqDevlist());
    const timeout = opts.timeoutMs ?? 5000;
    const header = decodeOpHeader(
      await withTimeout(clock, timeout, "OP_REP_DEVLIST", reader.read(OP_HEADER_SIZE)),
    );
    if (header.code !== OpCode.REP_DEVLIST || header.status !== 0)
      throw new UsbipProtocolError(
        `OP_REP_DEVLIST expected, got code 0x${header.code.toString(16)} status ${header.status}`,
      );
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
    { direction: number; resolve: (m: RetSubmit | { unlink: number }) => void }
  >();
  readonly closed: Promise<void>;
  #closedFlag = false;

  private constructor(
    readonly socket: Socket,
    readonly reader: SocketReader,
    readonly device: UsbipDevice,
    readonly clock: Clock,
    readonly timeoutMs: number,
  ) {
    this.closed = this.#receive();
  }

  /** OP_REQ_IMPORT of `busid`. @throws {Error} if the server refuses (status ≠ 0). */
  static async attach(busid: string, opts: UsbipClientOptions): Promise<UsbipImport> {
    const { socket, reader, clock } = await open(opts);
    const timeout = opts.timeoutMs ?? 5000;
    try {
      socket.write(encodeReqImport(busid));
      const header = decodeOpHeader(
        await withTimeout(clock, timeout, "OP_REP_IMPORT", reader.read(OP_HEADER_SIZE)),
      );
      if (header.code !== OpCode.REP_IMPORT)
        throw new UsbipProtocolError(`OP_REP_IMPORT expected, got code 0x${header.code.toString(16)}`);
      if (header.status !== 0) throw new Error(`import of ${busid} refused (status ${header.status})`);
      const device = decodeDeviceRecord(
        await withTimeout(clock, timeout, "the imported device record", reader.read(DEVICE_RECORD_SIZE)),
      );
      return new UsbipImport(socket, reader, device, clock, timeout);
    } catch (e) {
      socket.destroy();
      throw e;
    }
  }

  get isClosed(): boolean {
    return this.#closedFlag;
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
        this.#pending.delete(m.seqnum);
        if (m.command === UrbCommand.RET_SUBMIT) waiter?.resolve(m);
        else if (m.command === UrbCommand.RET_UNLINK) waiter?.resolve({ unlink: m.status });
      }
    } catch {
      this.socket.destroy();
    } finally {
      this.#closedFlag = true;
      for (const w of this.#pending.values()) w.resolve({ unlink: Number.NaN });
      this.#pending.clear();
    }
  }
}
