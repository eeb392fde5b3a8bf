/**
 * DfuClient: a host driver for ST DfuSe bootloaders over any WebUSB `USBDevice` (the `usb`
 * package's WebUSB on a lab rig, the emulator's facade on an emulated one). It does what
 * dfu-util and webdfu do, as the fact sheet §2.6 lists: clears a leftover error to dfuIDLE,
 * runs DfuSe commands (first GETSTATUS must be dfuDNBUSY), sleeps every bwPollTimeout on the
 * rig's clock, erases the pages an image touches once, writes blocks of wTransferSize,
 * uploads with the address formula, and leaves. Every transfer has a timeout; a GETSTATUS
 * stall while busy is retried a bounded number of times (STM32L4 erase quirk).
 *
 * After a leave, a Read Unprotect or an option-byte write the device re-enumerates: the
 * handle is marked stale and `reconnect()` (or `waitForApplication`) finds the new one.
 */

import {
  annotateDfu,
  COMMAND_BLOCK,
  DFU_FUNCTIONAL_DESCRIPTOR_TYPE,
  type DfuFunctionalDescriptor,
  DfuRequest,
  DfuState,
  DfuStatus,
  type DfuStatusReply,
  type DfuseCommandFrame,
  decodeFunctionalDescriptor,
  decodeStatus,
  encodeDfuseCommand,
  FIRST_DATA_BLOCK,
  type FirmwareImage,
  GETSTATUS_LENGTH,
  hex32,
  isDfuSe,
  type MemoryMap,
  parseMemoryMap,
  requestName,
  stateName,
  statusMeaning,
  statusName,
} from "../../protocol/dfu/index.js";
import { type Clock, TimeoutError } from "../../transport/clock.js";
import { Transcript } from "../../transport/transcript.js";
import { recordUsb, type UsbBus, type UsbDevice, type UsbFilter } from "../../transport/usb.js";
import type { ClientOptions, HostClient } from "../contract.js";
import { count, noteDeviceWait, type OperationHandle, operation } from "../operation.js";
import { DfuError, type DfuErrorKind, isDisconnect } from "./errors.js";
import { DfuEventEmitter, type DfuEvents } from "./events.js";
import { planDownload } from "./plan.js";
import { Watchdog } from "./watchdog.js";

interface DfuClientOptions {
  clock: Clock;
  /** Records every transfer; a DfuError carries its tail. Default: a private one on `clock`. */
  transcript?: Transcript;
  /** Alt setting by index or memory name ("Internal Flash"); default 0. */
  alt?: number | string;
  /** Per control transfer (dfu-util uses 5000 ms). */
  transferTimeoutMs?: number;
  /** How long a re-enumeration may take (L432 ROM: 820 ms USB connect). */
  enumerateTimeoutMs?: number;
  /** GETSTATUS stalls tolerated while the device is busy (dfu-util ≥ 0.10 allows 3). */
  stallRetries?: number;
  /** Safety cap on GETSTATUS polls of one operation (dfu-util gives up after 100 zero-timeout polls). */
  maxPolls?: number;
}

/** Waits in ms of the client's clock (the contract's `timeouts`). */
export interface DfuTimeouts {
  /** Per control transfer (dfu-util uses 5000 ms). */
  transferMs: number;
  /** How long a (re-)enumeration may take. */
  enumerateMs: number;
}

/** {@link DfuClient.open}'s options: the client contract plus the alt setting and retry caps. */
export interface DfuOpenOptions extends ClientOptions<DfuTimeouts> {
  alt?: number | string;
  stallRetries?: number;
  maxPolls?: number;
}

const DEFAULTS = { transferTimeoutMs: 5000, enumerateTimeoutMs: 5000, stallRetries: 3, maxPolls: 100 };
export class DfuClient implements HostClient<DfuEvents> {
  readonly events = new DfuEventEmitter();
  readonly transcript: Transcript;
  readonly clock: Clock;
  #device: UsbDevice;
  #raw: UsbDevice;
  #stale = false;
  #watchdog: Watchdog;
  #alt = 0;
  #iface = 0;
  #descriptor!: DfuFunctionalDescriptor;
  #maps: MemoryMap[] = [];
  #last: DfuStatusReply | undefined;
  /** The device state as far as this client knows without asking (saves a GETSTATUS per command). */
  #known: DfuState | undefined;
  readonly #opts: typeof DEFAULTS & DfuClientOptions;

  private constructor(
    readonly bus: UsbBus,
    readonly filter: UsbFilter,
    device: UsbDevice,
    opts: DfuClientOptions,
  ) {
    this.#opts = { ...DEFAULTS, ...opts };
    this.clock = opts.clock;
    this.transcript = opts.transcript ?? new Transcript({ clock: opts.clock });
    this.transcript.annotator ??= annotateDfu;
    this.#raw = device;
    this.#device = recordUsb(device, this.transcript);
    this.#watchdog = new Watchdog(opts.clock);
  }

  /**
   * Finds the DFU device (waiting up to `timeouts.enumerateMs`), opens it and selects the
   * alt setting: the client contract's entry point.
   */
  static async open(bus: UsbBus, filter: UsbFilter, opts: DfuOpenOptions): Promise<DfuClient> {
    const { timeouts, ...rest } = opts;
    const flat: DfuClientOptions = {
      ...rest,
      ...(timeouts?.transferMs === undefined ? {} : { transferTimeoutMs: timeouts.transferMs }),
      ...(timeouts?.enumerateMs === undefined ? {} : { enumerateTimeoutMs: timeouts.enumerateMs }),
    };
    // The transcript exists before the device does, so a failed search carries it too.
    const withTranscript = { ...flat, transcript: flat.transcript ?? new Transcript({ clock: flat.clock }) };
    const device = await DfuClient.#find(bus, filter, withTranscript, undefined);
    const client = new DfuClient(bus, filter, device, withTranscript);
    await client.#op(`open DFU interface (alt ${flat.alt ?? 0})`, () => client.#setUp(flat.alt ?? 0));
    return client;
  }

  static async #find(bus: UsbBus, filter: UsbFilter, opts: DfuClientOptions, notSame: UsbDevice | undefined) {
    const timeoutMs = opts.enumerateTimeoutMs ?? DEFAULTS.enumerateTimeoutMs;
    try {
      return await bus.waitFor(filter, { timeoutMs, clock: opts.clock, notSame });
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
      throw new DfuError({
        kind: "timeout",
        operation: notSame ? "re-enumeration" : "find device",
        detail: e.message,
        ...(opts.transcript ? { transcript: opts.transcript } : {}),
        cause: e,
      });
    }
  }

  /** The USBDevice of the current enumeration (recording). */
  get device(): UsbDevice {
    return this.#device;
  }

  get functionalDescriptor(): DfuFunctionalDescriptor {
    return this.#descriptor;
  }

  get transferSize(): number {
    return this.#descriptor.transferSize;
  }

  get alt(): number {
    return this.#alt;
  }

  /** Memory map of each alt setting, parsed from its name. */
  get memoryMaps(): readonly MemoryMap[] {
    return this.#maps;
  }

  get memoryMap(): MemoryMap {
    return this.#maps[this.#alt]!;
  }

  /** One operation of this client as reports show it. */
  #op<T>(title: string, body: (op: OperationHandle) => Promise<T>): Promise<T> {
    return operation({ kind: "dfu", transcript: this.transcript }, title, body);
  }

  /**
   * How long to wait before the next GETSTATUS: bwPollTimeout, but never longer than one
   * transfer may take. bwPollTimeout is 24 bits (up to 4.6 hours): a corrupted or lying
   * status would otherwise park the client far beyond every timeout it was given.
   */
  pollWaitMs(s: DfuStatusReply): number {
    return Math.min(s.pollTimeoutMs, this.#opts.transferTimeoutMs);
  }

  /** Last GETSTATUS reply. */
  get lastStatus(): DfuStatusReply | undefined {
    return this.#last;
  }

  async #setUp(alt: number | string): Promise<void> {
    const d = this.#device;
    await this.#guard("open", undefined, async () => {
      await d.open();
      if (d.configuration?.configurationValue !== 1) await d.selectConfiguration(1);
      const iface = d.configuration?.interfaces.find((i) =>
        i.alternates.some((a) => a.interfaceClass === 0xfe && a.interfaceSubclass === 0x01),
      );
      if (!iface) throw this.#error("usage", "open", "device has no DFU interface (class 0xFE/0x01)");
      this.#iface = iface.interfaceNumber;
      await d.claimInterface(this.#iface);
      this.#maps = iface.alternates.map((a) => parseMemoryMap(a.interfaceName ?? ""));
      this.#alt = this.#altIndex(alt, iface);
      await d.selectAlternateInterface(this.#iface, this.#alt);
      this.#descriptor = await this.#readFunctionalDescriptor();
      if (!isDfuSe(this.#descriptor))
        throw this.#error(
          "usage",
          "open",
          `bcdDFUVersion 0x${this.#descriptor.bcdDfuVersion.toString(16)} is not DfuSe`,
        );
    });
  }

  #altIndex(alt: number | string, iface: USBInterface): number {
    if (typeof alt === "number") {
      if (!iface.alternates[alt]) throw this.#error("usage", "select alt", `no alt setting ${alt}`);
      return alt;
    }
    const want = alt.trim().toLowerCase();
    const i = this.#maps.findIndex((m) => m.name.toLowerCase() === want);
    if (i < 0)
      throw this.#error(
        "usage",
        "select alt",
        `no alt setting named "${alt}" (have: ${this.#maps.map((m) => m.name).join(", ")})`,
      );
    return i;
  }

  /** Switch to another alt setting (Option Bytes, OTP Memory, ...). */
  async selectAlt(alt: number | string): Promise<void> {
    return this.#op(`select alt setting ${alt}`, async () => {
      this.#checkLive("select alt");
      const iface = this.#device.configuration!.interfaces.find((i) => i.interfaceNumber === this.#iface)!;
      const index = this.#altIndex(alt, iface);
      await this.#guard("select alt", undefined, () =>
        this.#device.selectAlternateInterface(this.#iface, index),
      );
      this.#alt = index;
    });
  }

  /** The functional descriptor, read from the configuration descriptor (as WebUSB hosts must). */
  async #readFunctionalDescriptor(): Promise<DfuFunctionalDescriptor> {
    const r = await this.#transfer("GET_DESCRIPTOR(configuration)", () =>
      this.#device.controlTransferIn(
        { requestType: "standard", recipient: "device", request: 6, value: 0x0200, index: 0 },
        1024,
      ),
    );
    const bytes = r.data
      ? new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength)
      : new Uint8Array(0);
    for (let at = 0; at + 2 <= bytes.length && bytes[at]! > 0; at += bytes[at]!)
      if (bytes[at + 1] === DFU_FUNCTIONAL_DESCRIPTOR_TYPE)
        return decodeFunctionalDescriptor(bytes.subarray(at, at + bytes[at]!));
    throw this.#error("usage", "open", "no DFU functional descriptor in the configuration descriptor");
  }

  // ---- DFU 1.1 requests ------------------------------------------------------------

  async getStatus(operation = "GETSTATUS"): Promise<DfuStatusReply> {
    const r = await this.#transfer(operation, () =>
      this.#device.controlTransferIn(this.#setup(DfuRequest.GETSTATUS), GETSTATUS_LENGTH),
    );
    if (r.status === "stall") throw this.#error("stall", operation, "GETSTATUS stalled");
    const bytes = new Uint8Array(r.data!.buffer, r.data!.byteOffset, r.data!.byteLength);
    let reply: DfuStatusReply;
    try {
      reply = decodeStatus(bytes);
    } catch (e) {
      throw this.#error("state", operation, (e as Error).message);
    }
    this.#last = reply;
    this.#known = reply.status === DfuStatus.OK ? reply.state : DfuState.dfuERROR;
    this.events.emit("status", reply);
    return reply;
  }

  async getState(): Promise<DfuState> {
    const r = await this.#transfer("GETSTATE", () =>
      this.#device.controlTransferIn(this.#setup(DfuRequest.GETSTATE), 1),
    );
    if (r.status !== "ok" || !r.data || r.data.byteLength !== 1)
      throw this.#error("stall", "GETSTATE", `GETSTATE ${r.status}`);
    return r.data.getUint8(0) as DfuState;
  }

  async clearStatus(): Promise<void> {
    await this.#out(DfuRequest.CLRSTATUS, 0, undefined, "CLRSTATUS");
    this.#known = DfuState.dfuIDLE;
  }

  async abort(): Promise<void> {
    await this.#out(DfuRequest.ABORT, 0, undefined, "ABORT");
    this.#known = DfuState.dfuIDLE;
  }

  /** Any DFU class request, OUT, as given (conformance tests); resolves with the transfer status. */
  async requestOut(request: DfuRequest, value = 0, data?: Uint8Array): Promise<USBTransferStatus> {
    return this.#out(request, value, data, requestName(request), { allowStall: true });
  }

  /** Any DFU class request, IN, as given; resolves with the data or "stall". */
  async requestIn(request: DfuRequest, value: number, length: number): Promise<Uint8Array | "stall"> {
    this.#known = undefined;
    const r = await this.#transfer(requestName(request), () =>
      this.#device.controlTransferIn(this.#setup(request, value), length),
    );
    if (r.status !== "ok" || !r.data) return "stall";
    return new Uint8Array(r.data.buffer.slice(r.data.byteOffset, r.data.byteOffset + r.data.byteLength));
  }

  /** A raw DNLOAD (block number and data as given); resolves with the transfer status. */
  async dnload(
    block: number,
    data: Uint8Array,
    operation = `DNLOAD block ${block}`,
  ): Promise<USBTransferStatus> {
    return this.#out(DfuRequest.DNLOAD, block, data, operation, { allowStall: true });
  }

  /** A raw UPLOAD; resolves with the bytes or "stall". */
  async uploadBlock(
    block: number,
    length: number,
    operation = `UPLOAD block ${block}`,
  ): Promise<Uint8Array | "stall"> {
    const r = await this.#transfer(operation, () =>
      this.#device.controlTransferIn(this.#setup(DfuRequest.UPLOAD, block), length),
    );
    this.#known = undefined;
    if (r.status !== "ok") return "stall";
    return new Uint8Array(r.data!.buffer.slice(r.data!.byteOffset, r.data!.byteOffset + r.data!.byteLength));
  }

  /**
   * Brings the device to dfuIDLE as dfu-util does: dfuERROR → CLRSTATUS, a leftover
   * DNLOAD-IDLE/UPLOAD-IDLE → ABORT. Run-time mode (appIDLE/appDETACH) is an error.
   */
  async toIdle(operation = "clear to dfuIDLE"): Promise<void> {
    for (let attempt = 0; attempt < 4; attempt++) {
      const s = await this.getStatus(operation);
      if (s.state === DfuState.dfuIDLE && s.status === DfuStatus.OK) return;
      if (s.state === DfuState.appIDLE || s.state === DfuState.appDETACH)
        throw this.#error("state", operation, "device is still in run-time mode", s);
      if (s.state === DfuState.dfuERROR) {
        // A leftover error (an F4 ROM starts in errFIRMWARE) is cleared, but said in the transcript.
        this.transcript.note(`cleared with CLRSTATUS: ${statusDetail(s)}`);
        await this.clearStatus();
      } else await this.abort();
    }
    throw this.#error("state", operation, "device does not return to dfuIDLE", this.#last);
  }

  // ---- DfuSe commands (AN3156 §5) ------------------------------------------------

  /** Get Commands: UPLOAD block 0, the command codes the bootloader supports. */
  async getCommands(): Promise<number[]> {
    await this.toIdle("Get Commands");
    const r = await this.uploadBlock(COMMAND_BLOCK, 32, "Get Commands");
    if (r === "stall") throw await this.#statusError("Get Commands", undefined);
    if (r.length === 32) await this.abort(); // a full frame leaves UPLOAD-IDLE
    return [...r];
  }

  async setAddress(address: number): Promise<void> {
    await this.#command({ kind: "set-address", address }, "Set Address Pointer", address);
  }

  async erasePage(address: number): Promise<void> {
    await this.#command({ kind: "erase-page", address }, "Erase page", address);
  }

  async massErase(): Promise<void> {
    return this.#op("mass erase", async () => {
      await this.#command({ kind: "mass-erase" }, "Mass erase", undefined);
    });
  }

  /**
   * Read Unprotect: the device answers dfuDNBUSY, erases flash and RAM, disconnects and
   * resets (AN3156 §5.4); this waits for the bootloader to enumerate again.
   */
  async readUnprotect(): Promise<void> {
    return this.#op("Read Unprotect", async () => {
      await this.#command({ kind: "read-unprotect" }, "Read Unprotect", undefined, { resets: true });
      await this.reconnect();
    });
  }

  /**
   * A DfuSe command: DNLOAD block 0, first GETSTATUS must say dfuDNBUSY (AN3156: "if not,
   * an error occurred"), then poll until dfuDNLOAD-IDLE; bStatus must be OK.
   */
  async #command(
    cmd: DfuseCommandFrame,
    operation: string,
    address: number | undefined,
    opts: { resets?: boolean } = {},
  ): Promise<void> {
    if (this.#known !== DfuState.dfuIDLE && this.#known !== DfuState.dfuDNLOAD_IDLE)
      await this.toIdle(operation);
    await this.#out(DfuRequest.DNLOAD, COMMAND_BLOCK, encodeDfuseCommand(cmd), operation, { address });
    const first = await this.getStatus(operation);
    if (first.state !== DfuState.dfuDNBUSY)
      throw this.#error(
        "state",
        operation,
        `first GETSTATUS after the command must be dfuDNBUSY`,
        first,
        address,
      );
    if (opts.resets) {
      this.#markStale();
      return;
    }
    await this.#pollUntilIdle(operation, address, first);
  }

  /** Sleeps bwPollTimeout after each status; L4 stalls while busy are retried with the last timeout. */
  async #pollUntilIdle(operation: string, address: number | undefined, first: DfuStatusReply): Promise<void> {
    let s = first;
    let stalls = 0;
    // Whether s is the device's own reply (a stalled poll repeats the last one's wait).
    let replied = true;
    for (let polls = 0; polls < this.#opts.maxPolls; polls++) {
      if (s.status !== DfuStatus.OK || s.state === DfuState.dfuERROR)
        throw this.#error("status", operation, statusDetail(s), s, address);
      if (s.state === DfuState.dfuDNLOAD_IDLE) return;
      if (s.state !== DfuState.dfuDNBUSY && s.state !== DfuState.dfuDNLOAD_SYNC)
        throw this.#error("state", operation, `unexpected ${stateName(s.state)}`, s, address);
      if (replied) noteDeviceWait(s.pollTimeoutMs);
      await this.clock.sleep(this.pollWaitMs(s));
      try {
        s = await this.getStatus(operation);
        replied = true;
      } catch (e) {
        if (!(e instanceof DfuError && e.kind === "stall") || stalls >= this.#opts.stallRetries) throw e;
        stalls++;
        this.events.emit("stall-retry", { attempt: stalls, operation });
        // Still busy (L4 erase): act as if dfuDNBUSY came back with the same timeout.
        s = { ...s, state: DfuState.dfuDNBUSY };
        replied = false;
      }
    }
    throw this.#error("state", operation, `still busy after ${this.#opts.maxPolls} polls`, s, address);
  }

  // ---- download / upload / leave -------------------------------------------------

  /**
   * Downloads an image to the current alt's memory: every page it touches erased once in
   * address order, then per segment Set Address Pointer and blocks 2, 3, … of wTransferSize
   * (a short last block gets its own Set Address Pointer, as the formula uses wLength).
   * The whole image is checked against the memory map before the first transfer.
   */
  async download(image: FirmwareImage, opts: { erase?: boolean } = {}): Promise<void> {
    return this.#op(
      `download ${image.segments.reduce((n, seg) => n + seg.data.length, 0)} bytes`,
      async () => {
        const planned = planDownload(image, this.memoryMap, this.transferSize);
        if (!planned.ok) throw this.#error("usage", "download", planned.detail, undefined, planned.address);
        const { plan } = planned;
        await this.toIdle("download");
        if (opts.erase ?? true)
          await this.#op(`erase ${count(plan.erase.length, "page")}`, async (op) => {
            for (const [i, sector] of plan.erase.entries()) {
              await this.erasePage(sector.start);
              op.progress?.(i + 1, plan.erase.length);
              this.events.emit("erase", { address: sector.start, index: i + 1, total: plan.erase.length });
              this.events.emit("progress", { done: i + 1, total: plan.erase.length, phase: "erase" });
            }
          });
        const total = plan.segments.reduce((n, s) => n + s.blocks.length, 0);
        await this.#op(`download ${count(total, "block")}`, async (op) => {
          let index = 0;
          let done = 0;
          for (const seg of plan.segments) {
            let pointer = Number.NaN;
            let block = FIRST_DATA_BLOCK;
            for (const b of seg.blocks) {
              const formula = pointer + (block - FIRST_DATA_BLOCK) * b.data.length;
              if (formula !== b.address || block > 0xffff) {
                await this.setAddress(b.address);
                pointer = b.address;
                block = FIRST_DATA_BLOCK;
              }
              await this.#writeBlock(block, b.address, b.data);
              block++;
              index++;
              done += b.data.length;
              this.events.emit("block", { index, address: b.address, length: b.data.length, total });
              op.progress?.(index, total);
              this.events.emit("progress", {
                done: Math.min(done, plan.bytes),
                total: plan.bytes,
                phase: "download",
              });
            }
          }
        });
      },
    );
  }

  /** One data block at the current pointer: DNLOAD, then poll through dfuDNBUSY to dfuDNLOAD-IDLE. */
  async #writeBlock(block: number, address: number, data: Uint8Array): Promise<void> {
    const operation = `DNLOAD block ${block}`;
    await this.#out(DfuRequest.DNLOAD, block, data, operation, { address });
    const s = await this.getStatus(operation);
    await this.#pollUntilIdle(operation, address, s);
  }

  /** Reads `length` bytes from `address` of the current alt (UPLOAD blocks 2, 3, …). */
  async upload(address: number, length: number): Promise<Uint8Array> {
    return this.#op(`upload ${length} bytes from ${hex32(address)}`, async (op) => {
      const out = new Uint8Array(length);
      const size = this.transferSize;
      let done = 0;
      while (done < length) {
        const chunk = Math.min(size, length - done);
        // The formula multiplies by wLength: a short chunk starts from its own pointer.
        await this.setAddress(address + done);
        await this.abort();
        let block = FIRST_DATA_BLOCK;
        const run = chunk === size ? Math.floor((length - done) / size) : 1;
        let short = false;
        for (let i = 0; i < run; i++, block++) {
          const at = address + done;
          const r = await this.uploadBlock(block, chunk, `UPLOAD block ${block}`);
          if (r === "stall") throw await this.#statusError(`UPLOAD block ${block}`, at);
          out.set(r.subarray(0, chunk), done);
          done += r.length;
          this.events.emit("progress", { done, total: length, phase: "upload" });
          op.progress?.(done, length);
          if (r.length < chunk) {
            short = true;
            if (done < length)
              throw this.#error(
                "state",
                "upload",
                `short frame: memory ends at ${hex32(address + done)}`,
                undefined,
                at,
              );
            break;
          }
          if (block === 0xffff) break;
        }
        // A full last frame leaves dfuUPLOAD-IDLE; a short one already ended in dfuIDLE.
        if (!short) await this.abort();
      }
      return out;
    });
  }

  /** Uploads every segment and compares; throws naming the first differing address. */
  async verify(image: FirmwareImage): Promise<void> {
    return this.#op("verify", async () => {
      for (const seg of image.segments) {
        const got = await this.upload(seg.address, seg.data.length);
        const i = got.findIndex((b, k) => b !== seg.data[k]);
        if (i >= 0)
          throw this.#error(
            "usage",
            "verify",
            `byte differs: read 0x${got[i]!.toString(16).padStart(2, "0")}, image has 0x${seg.data[i]!.toString(16).padStart(2, "0")}`,
            undefined,
            seg.address + i,
          );
      }
    });
  }

  /**
   * Leave DFU: optional Set Address Pointer, zero-length DNLOAD, one GETSTATUS that should
   * say dfuMANIFEST. The device then disconnects and runs the program at the pointer (or
   * resets); the handle is stale afterwards.
   */
  async leave(address?: number): Promise<void> {
    return this.#op(address === undefined ? "leave DFU" : `leave DFU to ${hex32(address)}`, async () => {
      await this.toIdle("leave");
      if (address !== undefined) await this.setAddress(address);
      await this.#out(DfuRequest.DNLOAD, 0, new Uint8Array(0), "leave", { address });
      try {
        const s = await this.getStatus("leave");
        if (s.status !== DfuStatus.OK) throw this.#error("status", "leave", statusDetail(s), s, address);
        if (s.state !== DfuState.dfuMANIFEST)
          throw this.#error(
            "state",
            "leave",
            "GETSTATUS after the zero-length DNLOAD must be dfuMANIFEST",
            s,
            address,
          );
      } catch (e) {
        // A device that is already gone has left, which is what was asked.
        if (!(e instanceof DfuError && e.kind === "disconnected")) throw e;
      }
      this.#markStale();
    });
  }

  /**
   * Writes the option-byte block (alt "Option Bytes"): the ROM applies it and resets, so
   * the client reconnects afterwards.
   */
  async writeOptionBytes(bytes: Uint8Array): Promise<void> {
    return this.#op("write option bytes", async () => {
      const previousAlt = this.#alt;
      await this.selectAlt("Option Bytes");
      const base = this.memoryMap.regions[0]!.address;
      await this.setAddress(base);
      await this.#out(DfuRequest.DNLOAD, FIRST_DATA_BLOCK, bytes, "write option bytes", { address: base });
      const s = await this.getStatus("write option bytes");
      if (s.state !== DfuState.dfuDNBUSY)
        throw this.#error("state", "write option bytes", "first GETSTATUS must be dfuDNBUSY", s, base);
      this.#markStale();
      await this.reconnect(previousAlt);
    });
  }

  /**
   * Waits for the bootloader's next enumeration and sets it up; the old handle is never reused.
   * `title` names the step: a caller that notices a reset only some time after it happened
   * (FUS polling) says so, since the wait is then not the re-enumeration's whole time.
   */
  async reconnect(alt: number | string = this.#alt, title = "re-enumerate"): Promise<void> {
    return this.#op(title, async () => {
      const old = this.#raw;
      this.#markStale();
      const device = await DfuClient.#find(
        this.bus,
        this.filter,
        { ...this.#opts, transcript: this.transcript },
        old,
      );
      this.#raw = device;
      this.#device = recordUsb(device, this.transcript);
      this.#watchdog = new Watchdog(this.clock);
      this.#stale = false;
      this.transcript.note(`re-enumerated: new handle ${device.serialNumber ?? ""}`);
      await this.#setUp(alt);
      this.events.emit("reenumerated", { device });
    });
  }

  /** After a leave: waits for the application's USB device (another VID/PID), never the stale handle. */
  async waitForApplication(filter: UsbFilter, timeoutMs = this.#opts.enumerateTimeoutMs): Promise<UsbDevice> {
    try {
      return await this.bus.waitFor(filter, { timeoutMs, clock: this.clock, notSame: this.#raw });
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
      throw this.#error("timeout", "wait for application", e.message);
    }
  }

  async close(): Promise<void> {
    if (this.#stale) return;
    await this.#raw.close().catch(() => {});
    this.#markStale();
  }

  // ---- plumbing ------------------------------------------------------------------

  #setup(request: number, value = 0): USBControlTransferParameters {
    return { requestType: "class", recipient: "interface", request, value, index: this.#iface };
  }

  async #out(
    request: number,
    value: number,
    data: Uint8Array | undefined,
    operation: string,
    opts: { address?: number | undefined; allowStall?: boolean } = {},
  ): Promise<USBTransferStatus> {
    this.#known = undefined;
    const r = await this.#transfer(
      operation,
      // Always a buffer, empty for ABORT/CLRSTATUS/leave: the W3C API makes data optional, but
      // the `usb` package's WebUSB (the lab path) reads data.buffer and throws without one.
      () => this.#device.controlTransferOut(this.#setup(request, value), data ?? new Uint8Array(0)),
      opts.address,
    );
    if (r.status === "stall" && !opts.allowStall)
      throw await this.#statusError(operation, opts.address, request);
    return r.status ?? "ok";
  }

  /** After a stalled request: read why (the device is in dfuERROR with a status). */
  async #statusError(operation: string, address: number | undefined, request?: number): Promise<DfuError> {
    const what = request === undefined ? operation : `${requestName(request)} (${operation})`;
    try {
      const s = await this.getStatus(operation);
      return this.#error("stall", operation, `${what} stalled: ${statusDetail(s)}`, s, address);
    } catch (e) {
      return e instanceof DfuError
        ? e
        : this.#error("stall", operation, `${what} stalled`, undefined, address);
    }
  }

  /** One transfer with a timeout; a vanished device becomes DfuError("disconnected"). */
  async #transfer<T>(operation: string, run: () => Promise<T>, address?: number): Promise<T> {
    this.#checkLive(operation);
    try {
      return await this.#watchdog.bound(this.#opts.transferTimeoutMs, operation, run());
    } catch (e) {
      if (e instanceof DfuError) throw e;
      if (e instanceof TimeoutError)
        throw this.#error("timeout", operation, e.message, undefined, address, e);
      if (isDisconnect(e)) {
        this.#markStale();
        throw this.#error("disconnected", operation, "device left the bus", undefined, address, e);
      }
      throw this.#error("usage", operation, (e as Error).message, undefined, address, e);
    }
  }

  async #guard<T>(operation: string, address: number | undefined, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      if (e instanceof DfuError) throw e;
      if (isDisconnect(e)) {
        this.#markStale();
        throw this.#error("disconnected", operation, "device left the bus", undefined, address, e);
      }
      throw this.#error("usage", operation, (e as Error).message, undefined, address, e);
    }
  }

  #checkLive(operation: string): void {
    if (this.#stale)
      throw this.#error(
        "stale",
        operation,
        "the device re-enumerated: this handle is gone (call reconnect())",
      );
  }

  #markStale(): void {
    if (!this.#stale) this.transcript.note("handle stale: device re-enumerates");
    this.#stale = true;
    this.#watchdog.stop();
  }

  #error(
    kind: DfuErrorKind,
    operation: string,
    detail: string,
    s?: DfuStatusReply,
    address?: number,
    cause?: unknown,
  ): DfuError {
    return new DfuError({
      kind,
      operation,
      detail,
      transcript: this.transcript,
      ...(address === undefined ? {} : { address }),
      ...(s ? { status: statusName(s.status), state: stateName(s.state) } : {}),
      ...(cause === undefined ? {} : { cause }),
    });
  }
}

/** "bStatus errPROG (Program memory function failed), bState dfuERROR": the DFU 1.1 meaning with the name. */
function statusDetail(s: DfuStatusReply): string {
  return `bStatus ${statusName(s.status)} (${statusMeaning(s.status)}), bState ${stateName(s.state)}`;
}
