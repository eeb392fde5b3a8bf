/**
 * A USB/IP server (the protocol of Linux's usbipd) exporting one emulated USB port under a
 * fixed bus id, so the real Linux USB stack (vhci-hcd), libusb, dfu-util or the `usb`
 * package can use the emulator. It serves whatever device the port has right now: the
 * ROM DFU bootloader, the application after a leave, the device after a FUS reset.
 *
 * - A connection carries one operation: OP_REQ_DEVLIST (answered, then closed) or
 *   OP_REQ_IMPORT, after which it carries the URBs of that device (CMD_SUBMIT, CMD_UNLINK).
 *   One import at a time; IMPORT of an absent or already imported device gets status 1.
 * - URBs run one at a time in arrival order (endpoint 0 is the only endpoint); an UNLINK
 *   answers −ECONNRESET for a URB not yet completed (its RET_SUBMIT is then never sent) and
 *   0 for one already answered, as usbip's stub driver does.
 * - When the device drops off the bus (re-enumeration, reset, power loss) the import ends:
 *   the transfer in flight is answered if the device answered it (a DFU leave's final
 *   GETSTATUS reaches the host before the detach), then the connection closes. The next
 *   device on the port is exported under the same bus id.
 * - When the importer closes the connection the device gets a USB bus reset, as the stub
 *   driver resets a real device when its import ends.
 * - Bytes that are no USB/IP message get one log line and a closed connection.
 *
 * USB/IP is unauthenticated: listen on loopback unless the network is trusted.
 */
import { createServer, type Server, type Socket } from "node:net";
import {
  BUSID_SIZE,
  type CmdSubmit,
  type CmdUnlink,
  decodeImportBusid,
  decodeOpHeader,
  decodeSetup,
  decodeUrb,
  devid,
  Errno,
  encodeRepDevlist,
  encodeRepImport,
  encodeUrb,
  OP_HEADER_SIZE,
  OpCode,
  UrbCommand,
  USBIP_VERSION,
  type UsbipDeviceListing,
  UsbipProtocolError,
  UsbSpeed,
} from "../protocol/usbip/index.js";
import { type Clock, TimeoutError, WallClock, withTimeout } from "../transport/clock.js";
import { SocketReader } from "../transport/socket-reader.js";
import type { DeviceChange } from "../transport/usb.js";
import { DeviceGoneError, deliverControl, describeSetup } from "./usbip-control.js";

/** What the server exports: a USB port whose device object changes with every enumeration. */
export interface UsbipSource {
  current(): USBDevice | undefined;
  onChange(listener: (change: DeviceChange) => void): () => void;
}

export interface UsbipServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 3240; 0 picks a free port. */
  port?: number;
  /** Default "1-1". */
  busid?: string;
  /** One line per event (imports, re-exports, refused packets). Default: none. */
  log?: (line: string) => void;
  /** For the timeouts (wall time: the peer is another process). */
  clock?: Clock;
  /** Time a new connection has to send its operation request (default 10 s). */
  requestTimeoutMs?: number;
  /** Longest a single control transfer may take in the emulator (default 30 s). */
  transferTimeoutMs?: number;
}

export interface UsbipServer {
  readonly host: string;
  readonly port: number;
  readonly busid: string;
  /** Number of imports so far (tests and logs). */
  readonly imports: number;
  /** Whether a client has the device imported now. */
  readonly imported: boolean;
  /** Stops listening and ends every connection. */
  close(): Promise<void>;
}

/** Default bus number of the export (busid "1-1": bus 1, port 1). */
const BUSNUM = 1;

/** The exported record of the device, from its WebUSB view. */
export function deviceListing(device: USBDevice, busid: string, devnum: number): UsbipDeviceListing {
  const config = device.configuration ?? device.configurations[0];
  const interfaces = (config?.interfaces ?? []).map((i) => {
    const alt = i.alternates[0] ?? i.alternate;
    return {
      bInterfaceClass: alt.interfaceClass,
      bInterfaceSubClass: alt.interfaceSubclass,
      bInterfaceProtocol: alt.interfaceProtocol,
    };
  });
  return {
    path: `/sys/devices/platform/update-hil/usb${BUSNUM}/${busid}`,
    busid,
    busnum: BUSNUM,
    devnum,
    speed: UsbSpeed.full,
    idVendor: device.vendorId,
    idProduct: device.productId,
    bcdDevice:
      (device.deviceVersionMajor << 8) | (device.deviceVersionMinor << 4) | device.deviceVersionSubminor,
    bDeviceClass: device.deviceClass,
    bDeviceSubClass: device.deviceSubclass,
    bDeviceProtocol: device.deviceProtocol,
    bConfigurationValue: device.configuration?.configurationValue ?? 0,
    bNumConfigurations: device.configurations.length,
    bNumInterfaces: interfaces.length,
    interfaces,
  };
}

export async function serveUsbip(source: UsbipSource, opts: UsbipServerOptions = {}): Promise<UsbipServer> {
  const host = opts.host ?? "127.0.0.1";
  const busid = opts.busid ?? "1-1";
  const log = opts.log ?? (() => {});
  const clock = opts.clock ?? new WallClock();
  const requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
  const transferTimeoutMs = opts.transferTimeoutMs ?? 30_000;
  const sockets = new Set<Socket>();
  let session: ImportSession | undefined;
  let imports = 0;
  /** Device number of the current enumeration: a new one per device object, like a new address. */
  let devnum = 0;
  let numbered: USBDevice | undefined;
  const numberOf = (d: USBDevice): number => {
    if (numbered !== d) {
      numbered = d;
      devnum = (devnum % 127) + 1;
    }
    return devnum;
  };
  const unsubscribe = source.onChange((change) => {
    const hex4 = (n: number) => n.toString(16).padStart(4, "0");
    const id = `${hex4(change.device.vendorId)}:${hex4(change.device.productId)}`;
    if (change.type === "connect") log(`usbip: exporting ${id} "${change.device.productName}" as ${busid}`);
    else {
      log(`usbip: ${id} left the bus`);
      if (session?.device === change.device) session.deviceGone();
    }
  });

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", (e) => log(`usbip: ${peer(socket)}: ${e.message}`));
    void handle(socket).catch((e: unknown) => {
      log(`usbip: ${peer(socket)}: ${(e as Error).message}: closing`);
      socket.destroy();
    });
  });

  async function handle(socket: Socket): Promise<void> {
    const reader = new SocketReader(socket);
    const header = decodeOpHeader(
      await withTimeout(clock, requestTimeoutMs, "a USB/IP operation request", reader.read(OP_HEADER_SIZE)),
    );
    if (header.version !== USBIP_VERSION)
      throw new UsbipProtocolError(`unsupported USB/IP version 0x${header.version.toString(16)}`);
    const current = source.current();
    if (header.code === OpCode.REQ_DEVLIST) {
      const listed = current && !session ? [deviceListing(current, busid, numberOf(current))] : [];
      socket.end(encodeRepDevlist(listed));
      return;
    }
    if (header.code !== OpCode.REQ_IMPORT)
      throw new UsbipProtocolError(`unexpected operation 0x${header.code.toString(16)}`);
    const wanted = decodeImportBusid(
      await withTimeout(clock, requestTimeoutMs, "the OP_REQ_IMPORT bus id", reader.read(BUSID_SIZE)),
    );
    const refuse = (why: string) => {
      log(`usbip: ${peer(socket)}: import of ${wanted} refused: ${why}`);
      socket.end(encodeRepImport(undefined));
    };
    if (wanted !== busid) return refuse(`this server exports ${busid} only`);
    if (!current) return refuse("no device on the port (re-enumerating?)");
    if (session) return refuse(`already imported by ${session.peer}`);
    try {
      await current.open();
    } catch (e) {
      return refuse((e as Error).message);
    }
    if (source.current() !== current) return refuse("the device re-enumerated");
    const record = deviceListing(current, busid, numberOf(current));
    imports++;
    session = new ImportSession(socket, reader, current, devid(record), {
      log,
      clock,
      transferTimeoutMs,
      onEnd: () => {
        if (session?.socket === socket) session = undefined;
      },
    });
    socket.write(encodeRepImport(record));
    log(`usbip: ${busid} imported by ${peer(socket)}`);
    await session.run();
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 3240, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : (opts.port ?? 3240);
  return {
    host,
    port,
    busid,
    get imports() {
      return imports;
    },
    get imported() {
      return session !== undefined;
    },
    close: async () => {
      unsubscribe();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

interface SessionOptions {
  log: (line: string) => void;
  clock: Clock;
  transferTimeoutMs: number;
  onEnd: () => void;
}

/** One import: the URB stream of one device object on one connection. */
class ImportSession {
  readonly peer: string;
  readonly #queue: CmdSubmit[] = [];
  /** seqnum of the URB being run, and whether an UNLINK cancelled its completion. */
  #inFlight: { seqnum: number; unlinked: boolean } | undefined;
  #wake: (() => void) | undefined;
  #ended = false;
  #gone = false;
  #urbs = 0;

  constructor(
    readonly socket: Socket,
    readonly reader: SocketReader,
    readonly device: USBDevice,
    readonly devid: number,
    readonly opts: SessionOptions,
  ) {
    this.peer = peer(socket);
  }

  /** The device dropped off the bus: answer what is in flight, then close. */
  deviceGone(): void {
    if (this.#gone || this.#ended) return;
    this.#gone = true;
    this.opts.log(`usbip: device re-enumerating: ending the import by ${this.peer}`);
    this.#queue.length = 0;
    if (!this.#inFlight) this.#end(true);
  }

  async run(): Promise<void> {
    this.socket.on("close", () => this.#end(false));
    const worker = this.#work();
    try {
      for (;;) {
        const message = await this.reader.next((b) => decodeUrb(b));
        if (message === undefined) break; // connection closed
        if (this.#ended) break;
        if (message.command === UrbCommand.CMD_SUBMIT) this.#submit(message);
        else if (message.command === UrbCommand.CMD_UNLINK) this.#unlink(message);
        else
          throw new UsbipProtocolError(
            `a client sent ${message.command === UrbCommand.RET_SUBMIT ? "RET_SUBMIT" : "RET_UNLINK"}`,
          );
      }
    } catch (e) {
      const why = e instanceof UsbipProtocolError ? `bad USB/IP packet: ${e.message}` : (e as Error).message;
      this.opts.log(`usbip: ${this.peer}: ${why}: closing`);
      this.socket.destroy();
    } finally {
      this.#end(false);
      await worker;
    }
  }

  #submit(cmd: CmdSubmit): void {
    if (cmd.devid !== this.devid)
      throw new UsbipProtocolError(
        `CMD_SUBMIT seqnum ${cmd.seqnum} for devid 0x${cmd.devid.toString(16)}, imported 0x${this.devid.toString(16)}`,
      );
    if (this.#gone) return;
    this.#queue.push(cmd);
    this.#wake?.();
  }

  #unlink(cmd: CmdUnlink): void {
    const queued = this.#queue.findIndex((c) => c.seqnum === cmd.unlinkSeqnum);
    let status = 0;
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      status = -Errno.ECONNRESET;
    } else if (this.#inFlight?.seqnum === cmd.unlinkSeqnum && !this.#inFlight.unlinked) {
      this.#inFlight.unlinked = true;
      status = -Errno.ECONNRESET;
    }
    this.opts.log(
      `usbip: UNLINK seqnum ${cmd.unlinkSeqnum}: ${status === 0 ? "already completed" : "unlinked"}`,
    );
    this.#send(
      encodeUrb({
        command: UrbCommand.RET_UNLINK,
        seqnum: cmd.seqnum,
        devid: 0,
        direction: 0,
        ep: 0,
        status,
      }),
    );
  }

  async #work(): Promise<void> {
    while (!this.#ended) {
      const cmd = this.#queue.shift();
      if (!cmd) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
        continue;
      }
      this.#inFlight = { seqnum: cmd.seqnum, unlinked: false };
      this.#urbs++;
      let reply: { status: number; data: Uint8Array; actualLength: number } | undefined;
      try {
        reply = await this.#run(cmd);
      } catch (e) {
        if (e instanceof DeviceGoneError) this.deviceGone();
        else {
          this.opts.log(`usbip: seqnum ${cmd.seqnum}: ${(e as Error).message}: closing`);
          this.#end(true);
        }
      }
      const { unlinked } = this.#inFlight;
      this.#inFlight = undefined;
      if (reply && !unlinked && !this.#ended)
        this.#send(
          encodeUrb({
            command: UrbCommand.RET_SUBMIT,
            seqnum: cmd.seqnum,
            devid: 0,
            direction: cmd.direction,
            ep: 0,
            status: reply.status,
            actualLength: reply.actualLength,
            startFrame: 0,
            numberOfPackets: 0,
            errorCount: 0,
            data: cmd.direction === 1 ? reply.data : new Uint8Array(0),
          }),
        );
      if (this.#gone) this.#end(true);
    }
  }

  async #run(cmd: CmdSubmit): Promise<{ status: number; data: Uint8Array; actualLength: number }> {
    if (cmd.ep !== 0) {
      this.opts.log(`usbip: seqnum ${cmd.seqnum}: endpoint ${cmd.ep} does not exist: STALL`);
      return { status: -Errno.EPIPE, data: new Uint8Array(0), actualLength: 0 };
    }
    const setup = decodeSetup(cmd.setup);
    const dirIn = (setup.bmRequestType & 0x80) !== 0;
    if (dirIn !== (cmd.direction === 1) && setup.wLength > 0)
      throw new UsbipProtocolError(
        `seqnum ${cmd.seqnum}: direction ${cmd.direction} disagrees with ${describeSetup(setup)}`,
      );
    const length = Math.min(setup.wLength, cmd.transferBufferLength);
    const result = await withTimeout(
      this.opts.clock,
      this.opts.transferTimeoutMs,
      `the emulator to answer ${describeSetup(setup)}`,
      deliverControl(this.device, { ...setup, wLength: length }, cmd.data, (line) =>
        this.opts.log(`usbip: ${line}`),
      ),
    ).catch((e: unknown) => {
      if (e instanceof TimeoutError) throw new Error(e.message);
      throw e;
    });
    return result;
  }

  #send(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** @param close end the connection from this side (after flushing what was written). */
  #end(close: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#queue.length = 0;
    this.#wake?.();
    if (close) {
      this.socket.end();
      // The importer closes its side on EOF; one that does not is cut off.
      const closed = new AbortController();
      this.socket.once("close", () => closed.abort());
      void this.opts.clock.sleep(2000, closed.signal).then(() => this.socket.destroy());
    }
    this.opts.onEnd();
    this.opts.log(`usbip: import by ${this.peer} ended after ${this.#urbs} URBs`);
    if (this.#gone) return;
    // The importer let go of a device still on the bus: a USB bus reset, then closed.
    void (async () => {
      try {
        if (this.device.opened) await this.device.reset();
        await this.device.close();
      } catch {
        // Gone meanwhile: nothing left to reset.
      }
    })();
  }
}

function peer(socket: Socket): string {
  return `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;
}
