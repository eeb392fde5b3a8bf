/**
 * The STM32 ROM bootloader's USB DFU interface (DFU 1.1 + ST DfuSe, AN3156), as one USB
 * function on the chip model. It follows the DFU 1.1 state table: a request not legal in the
 * current state stalls and enters dfuERROR with errSTALLEDPKT; CLRSTATUS recovers.
 *
 * DfuSe timing that real hosts depend on (fact sheet §1.7, §2.6): a DNLOAD only stores the
 * block or command; the next GETSTATUS answers dfuDNBUSY with bwPollTimeout from the timing
 * table and the operation runs after that reply; the GETSTATUS after it reports
 * dfuDNLOAD-IDLE or dfuERROR with errTARGET (address outside the alt's memory map, the WB55
 * secure area, no mass erase) or errVENDOR (readout protection, a refused flash operation).
 * Requests that arrive while the operation runs wait for it (the device NAKs them), except
 * GETSTATUS under the opt-in L4 quirk, which stalls during a page erase.
 *
 * Fault-plan events (`hil run --fault event:NAME#K=WHAT`): `dfu.request.<REQUEST>` as each
 * request arrives (GETSTATUS, DNLOAD, ...; usb-stall stalls that one request, usb-disconnect
 * drops the link, power-cut cuts), and `dfu.dnload.block` once a data block is programmed
 * ("after DNLOAD block k").
 *
 * A `dfu-status-<errX>` fault models a DFU 1.1 device whose operation failed with status X,
 * which the ROM itself never reports (AN3156 documents only errTARGET and errVENDOR): at
 * `dfu.dnload.block#k` block k is not programmed (checked before the write; it still counts
 * as occurrence k); at `dfu.request.DNLOAD#k` the operation of that DNLOAD (command, block, or
 * the zero-length one that leaves) is not performed; either way the GETSTATUS that reports
 * the result (after dfuDNBUSY; for a leave, the one that would say dfuMANIFEST) answers
 * dfuERROR with X. At `dfu.request.GETSTATUS#k` that GETSTATUS answers dfuERROR with X and
 * any pending operation is dropped (errFIRMWARE as the F4 ROM reported it at start). CLRSTATUS
 * recovers as from any error.
 *
 * WB55 with a CPU2 model: FUS commands reach it as AN5185 §7.2 maps them: DNLOAD wBlockNum 0
 * whose first byte is a FUS opcode (0x52 delete, 0x53 upgrade, 0x56–0x59 keys, 0x5A start WS;
 * status OK → dfuDNLOAD-IDLE, FUS "Fail" → dfuERROR errVENDOR [assumption]), and UPLOAD from
 * the virtual addresses 0xFFFF00YY after Set Address Pointer (0xFFFF0054 GET_STATE → [state,
 * error], 0xFFFF0059 → the stored key index). A GET_STATE that reboots the chip into FUS
 * gets no answer (stall; the device drops off the bus and enumerates again).
 */
import {
  blockAddress,
  COMMAND_BLOCK,
  covers,
  DfuPayloadError,
  DfuRequest,
  DfuState,
  DfuStatus,
  type DfuseCommandFrame,
  decodeDfuseCommand,
  encodeStatus,
  FIRST_DATA_BLOCK,
  hex32,
  type MemoryMap,
  parseMemoryMap,
  requestName,
  sectorAt,
  stateName,
  statusName,
} from "../../../protocol/dfu/index.js";
import {
  DFU_DNLOAD_OPCODES,
  DFU_UPLOAD_GET_STATE,
  DFU_UPLOAD_STORE_USR_KEY,
} from "../../../protocol/fus/index.js";
import { PowerLostError } from "../../../sim/power.js";
import type { AccessResult } from "../chip.js";
import type { Stm32Device } from "../device.js";
import { DEVICE_FEATURE_BASE, DFU_TRANSFER_SIZE, romIdentity, type UsbIdentity } from "./descriptors.js";
import type { DfuTiming } from "./timing.js";
import type { ControlReply, ControlSetup, UsbFunction } from "./usb-device.js";

/** Codes answered to Get Commands (UPLOAD block 0), AN3156 §4.2. */
export const GET_COMMANDS_REPLY = Uint8Array.of(0x00, 0x21, 0x41, 0x92);

export interface DfuQuirks {
  /** STM32L4: GETSTATUS stalls while a page erase runs, after a too-short bwPollTimeout. */
  l4EraseStall: boolean;
  /** Start in dfuERROR/errFIRMWARE, as an STM32F4 ROM was seen to (hosts must CLRSTATUS). */
  startInError: boolean;
  /**
   * A planted defect, no real ROM's: the first page erase after a power loss is acknowledged
   * but not performed. Fault campaigns must find it (off by default).
   */
  skipEraseAfterPowerLoss?: boolean;
}

/** Per chip: the power-event mark of its last page erase (survives re-enumeration). */
const lastEraseMark = new WeakMap<Stm32Device, number>();

/** What the ROM asks of the port that owns its USB link. */
export interface RomDfuPort {
  /** Drop off the bus now (manifestation, reset, injected disconnect). */
  disconnect(reason: string): void;
  /** An injected USB disconnect: drop off the bus and enumerate again. */
  replug(reason: string): void;
}

type Pending = (
  | { kind: "command"; cmd: DfuseCommandFrame }
  | { kind: "write"; block: number; address: number; data: Uint8Array }
  | { kind: "fus"; opcode: number; data: Uint8Array }
) & {
  /** An injected dfu-status fault: the operation fails with this status, not performed. */
  injected?: DfuStatus;
};

/** Outcome of one DfuSe operation; `reset` = the ROM resets the chip after it (no second GETSTATUS). */
interface Outcome {
  status: DfuStatus;
  busyMs: number;
  reset?: string;
  detail?: string;
}

export class RomDfu implements UsbFunction {
  readonly identity: UsbIdentity;
  readonly #maps: MemoryMap[];
  #state: DfuState;
  #status: DfuStatus;
  #alt = 0;
  /** Set Address Pointer register; default 0x08000000 (AN3156 §4.2). */
  #pointer: number;
  /** Where Leave jumps: the last Set Address Pointer or the last write's address. */
  #jumpAddress: number;
  #pending: Pending | undefined;
  /** The operation running after a dfuDNBUSY reply; requests wait for it. */
  #busy: BusyOperation | undefined;

  constructor(
    readonly device: Stm32Device,
    readonly port: RomDfuPort,
    readonly timing: DfuTiming,
    readonly quirks: DfuQuirks,
  ) {
    this.identity = romIdentity(device.profile, device.serial);
    this.#maps = this.identity.alternates.map((name) => parseMemoryMap(name));
    this.#pointer = this.#jumpAddress = device.profile.flash.base;
    [this.#state, this.#status] = quirks.startInError
      ? [DfuState.dfuERROR, DfuStatus.errFIRMWARE]
      : [DfuState.dfuIDLE, DfuStatus.OK];
  }

  get state(): DfuState {
    return this.#state;
  }

  get status(): DfuStatus {
    return this.#status;
  }

  get alt(): number {
    return this.#alt;
  }

  get pointer(): number {
    return this.#pointer;
  }

  selectAlternate(alt: number): void {
    this.#alt = alt;
  }

  async usbReset(): Promise<void> {
    await this.#busy?.done;
    this.#log("USB reset: dfuIDLE");
    this.#pending = undefined;
    this.#pointer = this.#jumpAddress = this.device.profile.flash.base;
    this.#set(DfuState.dfuIDLE, DfuStatus.OK);
  }

  /** Answers at once unless an operation runs: then the request waits for it (the device NAKs). */
  control(
    setup: ControlSetup,
    dir: "in" | "out",
    data: Uint8Array | undefined,
    length: number,
  ): ControlReply | Promise<ControlReply> {
    if (setup.requestType !== "class" || setup.recipient !== "interface") return { status: "stall" };
    const name = requestName(setup.request);
    let injected: DfuStatus | undefined;
    for (const fault of this.device.event(requestEvent(setup.request, name))) {
      if (fault.what.do === "usb-stall") return { status: "stall" };
      if (fault.what.do === "usb-disconnect") {
        this.port.replug(`fault at ${name}`);
        return { status: "stall" };
      }
      if (fault.what.do === "dfu-status") injected = DfuStatus[fault.what.status];
    }
    if (this.#busy) {
      if (this.quirks.l4EraseStall && this.#busy.erase && setup.request === DfuRequest.GETSTATUS) {
        this.#log("GETSTATUS stalled: page erase in progress (L4 quirk)");
        return { status: "stall" };
      }
      return this.#busy.done.then(() => this.#request(setup, name, dir, data, length, injected));
    }
    return this.#request(setup, name, dir, data, length, injected);
  }

  /** One request by the DFU 1.1 state table, once no operation runs. */
  #request(
    setup: ControlSetup,
    name: string,
    dir: "in" | "out",
    data: Uint8Array | undefined,
    length: number,
    injected: DfuStatus | undefined,
  ): ControlReply | Promise<ControlReply> {
    const wantIn = dir === "in";
    if (
      injected !== undefined &&
      setup.request !== DfuRequest.DNLOAD &&
      setup.request !== DfuRequest.GETSTATUS
    )
      this.#log(`injected ${statusName(injected)} at ${name}: no effect here`);
    switch (setup.request) {
      case DfuRequest.GETSTATUS:
        if (!wantIn) return this.#illegal(name);
        return injected === undefined ? this.#getStatus() : this.#injectedStatus(injected);
      case DfuRequest.GETSTATE:
        return wantIn ? { status: "ok", data: Uint8Array.of(this.#state) } : this.#illegal(name);
      case DfuRequest.CLRSTATUS:
        if (wantIn || this.#state !== DfuState.dfuERROR) return this.#illegal(name);
        this.#set(DfuState.dfuIDLE, DfuStatus.OK);
        return { status: "ok" };
      case DfuRequest.ABORT:
        if (wantIn || !ABORTABLE.has(this.#state)) return this.#illegal(name);
        this.#pending = undefined;
        this.#set(DfuState.dfuIDLE, DfuStatus.OK);
        return { status: "ok" };
      case DfuRequest.DNLOAD:
        return wantIn ? this.#illegal(name) : this.#dnload(setup.value, data ?? new Uint8Array(0), injected);
      case DfuRequest.UPLOAD:
        return wantIn ? this.#upload(setup.value, length) : this.#illegal(name);
      default:
        // DETACH is only legal in appIDLE; the ROM is never in run-time mode.
        return this.#illegal(name);
    }
  }

  #dnload(block: number, data: Uint8Array, injected: DfuStatus | undefined): ControlReply {
    if (this.#state !== DfuState.dfuIDLE && this.#state !== DfuState.dfuDNLOAD_IDLE)
      return this.#illegal("DFU_DNLOAD");
    if (data.length === 0) {
      if (injected !== undefined) {
        // The device disagrees with the end of the download (errNOTDONE, say): no manifestation.
        this.#log(`injected fault: leave refused with ${statusName(injected)}`);
        this.#set(DfuState.dfuERROR, injected);
        return { status: "ok" };
      }
      // Leave: accepted in dfuIDLE too and with any block number (AN3156 §5.5; hosts send 0 or 2).
      this.#set(DfuState.dfuMANIFEST_SYNC, DfuStatus.OK);
      return { status: "ok" };
    }
    if (data.length > DFU_TRANSFER_SIZE) return this.#illegal(`DFU_DNLOAD of ${data.length} bytes`);
    if (block === COMMAND_BLOCK && this.device.fus && DFU_DNLOAD_OPCODES.has(data[0]!)) {
      this.#pending = { kind: "fus", opcode: data[0]!, data: data.slice(1) };
    } else if (block === COMMAND_BLOCK) {
      try {
        this.#pending = { kind: "command", cmd: decodeDfuseCommand(data) };
      } catch (e) {
        if (e instanceof DfuPayloadError) return this.#illegal(e.message);
        throw e;
      }
    } else if (block >= FIRST_DATA_BLOCK) {
      this.#pending = {
        kind: "write",
        block,
        address: blockAddress(block, data.length, this.#pointer),
        data,
      };
    } else {
      return this.#illegal(`DFU_DNLOAD block ${block}`);
    }
    if (injected !== undefined) this.#pending.injected = injected;
    this.#set(DfuState.dfuDNLOAD_SYNC, this.#status);
    return { status: "ok" };
  }

  #upload(block: number, length: number): ControlReply | Promise<ControlReply> {
    if (this.#state !== DfuState.dfuIDLE && this.#state !== DfuState.dfuUPLOAD_IDLE)
      return this.#illegal("DFU_UPLOAD");
    if (length > DFU_TRANSFER_SIZE || length === 0) return this.#illegal(`DFU_UPLOAD of ${length} bytes`);
    let data: Uint8Array;
    if (block === COMMAND_BLOCK) {
      data = GET_COMMANDS_REPLY.slice(0, length);
    } else if (block >= FIRST_DATA_BLOCK) {
      const address = blockAddress(block, length, this.#pointer);
      if (this.device.fus && address >= DEVICE_FEATURE_BASE) return this.#fusUpload(address, length);
      const read = this.#read(address, length);
      if (!read.ok) {
        this.#log(`UPLOAD ${hex32(address)}+${length} refused: ${read.detail}`);
        this.#set(DfuState.dfuERROR, read.status);
        return { status: "stall" };
      }
      data = read.data;
    } else {
      return this.#illegal(`DFU_UPLOAD block ${block}`);
    }
    // A short frame ends the upload (DFU 1.1 §6.2).
    this.#set(data.length < length ? DfuState.dfuIDLE : DfuState.dfuUPLOAD_IDLE, DfuStatus.OK);
    return { status: "ok", data };
  }

  /** FUS read commands at 0xFFFF00YY (AN5185 Table 19). */
  async #fusUpload(address: number, length: number): Promise<ControlReply> {
    const fus = this.device.fus!;
    let data: Uint8Array | undefined;
    if (address === DFU_UPLOAD_GET_STATE && length >= 2) {
      const s = await fus.getState();
      if (!s) return { status: "stall" }; // the chip reset under the request: no state returned
      data = Uint8Array.of(s.state, s.error);
    } else if (address === DFU_UPLOAD_STORE_USR_KEY && length >= 1 && fus.lastKeyIndex !== undefined) {
      data = Uint8Array.of(fus.lastKeyIndex);
    }
    if (!data) {
      this.#log(`UPLOAD ${hex32(address)}+${length}: no FUS read command there`);
      this.#set(DfuState.dfuERROR, DfuStatus.errTARGET);
      return { status: "stall" };
    }
    this.#set(data.length < length ? DfuState.dfuIDLE : DfuState.dfuUPLOAD_IDLE, DfuStatus.OK);
    return { status: "ok", data };
  }

  #getStatus(): ControlReply {
    if (this.#state === DfuState.dfuDNLOAD_SYNC) {
      const op = this.#pending;
      if (!op) {
        this.#set(DfuState.dfuDNLOAD_IDLE, DfuStatus.OK);
        return this.#statusReply(0);
      }
      this.#pending = undefined;
      const pollMs = this.#estimate(op);
      this.#set(DfuState.dfuDNBUSY, DfuStatus.OK);
      // Busy from now: requests wait for the operation, which starts once the status
      // packet is sent (ST's DfuSe runs it on EP0 TxReady).
      const busy = new BusyOperation(isErase(op));
      this.#busy = busy;
      const reply = this.#statusReply(pollMs);
      reply.after = () =>
        busy.settle(
          this.#run(op).finally(() => {
            if (this.#busy === busy) this.#busy = undefined;
          }),
        );
      return reply;
    }
    if (this.#state === DfuState.dfuMANIFEST_SYNC) {
      this.#set(DfuState.dfuMANIFEST, DfuStatus.OK);
      const reply = this.#statusReply(this.timing.manifestPollMs);
      reply.after = () => void this.#manifest();
      return reply;
    }
    return this.#statusReply(0);
  }

  /** An injected dfu-status fault at GETSTATUS: dfuERROR with it now; a pending operation is dropped. */
  #injectedStatus(status: DfuStatus): ControlReply {
    this.#log(
      `injected fault: GETSTATUS reports ${statusName(status)}${this.#pending ? `, ${describe(this.#pending)} dropped` : ""}`,
    );
    this.#pending = undefined;
    this.#set(DfuState.dfuERROR, status);
    return this.#statusReply(0);
  }

  #statusReply(pollMs: number): Extract<ControlReply, { status: "ok" }> {
    return {
      status: "ok",
      data: encodeStatus({ status: this.#status, pollTimeoutMs: pollMs, state: this.#state, iString: 0 }),
    };
  }

  /** bwPollTimeout for an operation, from the device timing table. */
  #estimate(op: Pending): number {
    const t = this.device.profile.timing;
    if (op.kind === "fus") return Math.ceil(this.device.fus?.timing.commandMs ?? 1);
    if (op.kind === "write") {
      const units = Math.ceil(op.data.length / this.device.profile.programUnit);
      return Math.ceil(units * t.doubleWordProgramMs);
    }
    switch (op.cmd.kind) {
      case "erase-page":
        return this.quirks.l4EraseStall ? this.timing.l4QuirkErasePollMs : Math.ceil(t.pageEraseMs);
      case "mass-erase":
      case "read-unprotect":
        return Math.ceil(t.massEraseMs);
      default:
        return 0;
    }
  }

  async #run(op: Pending): Promise<void> {
    try {
      await this.device.powered(async (epoch) => {
        const injected = op.injected ?? this.#blockFault(op);
        const outcome: Outcome =
          injected !== undefined
            ? { status: injected, busyMs: 0, detail: "injected fault: not performed" }
            : op.kind === "fus"
              ? await this.#fusCommand(op)
              : op.kind === "write"
                ? this.#write(op)
                : this.#command(op.cmd);
        await this.device.busy(epoch, outcome.busyMs);
        if (outcome.reset) {
          this.port.disconnect(outcome.reset);
          await this.device.systemReset(outcome.reset);
          return;
        }
        if (outcome.status !== DfuStatus.OK) {
          this.#log(`${describe(op)}: ${statusName(outcome.status)} (${outcome.detail ?? ""})`);
          this.#set(DfuState.dfuERROR, outcome.status);
          return;
        }
        this.#set(DfuState.dfuDNLOAD_SYNC, DfuStatus.OK);
        if (op.kind === "write") this.#afterBlock();
      });
    } catch (e) {
      // Power went away mid-operation: the USB link went with it, nothing to report.
      if (!(e instanceof PowerLostError)) throw e;
    }
  }

  /** "After DNLOAD block k" faults: power cut (handled by the device) or a USB disconnect. */
  #afterBlock(): void {
    for (const fault of this.device.event(BLOCK_EVENT))
      if (fault.what.do === "usb-disconnect") this.port.replug("fault after DNLOAD block");
  }

  /**
   * A dfu-status fault armed for this data block's `dfu.dnload.block` occurrence: the block
   * counts (its faults fire) but is not written.
   */
  #blockFault(op: Pending): DfuStatus | undefined {
    if (op.kind !== "write") return undefined;
    if (!this.device.faults.armed(BLOCK_EVENT).some((f) => f.what.do === "dfu-status")) return undefined;
    for (const fault of this.device.event(BLOCK_EVENT))
      if (fault.what.do === "dfu-status") return DfuStatus[fault.what.status];
    return undefined;
  }

  async #fusCommand(op: Extract<Pending, { kind: "fus" }>): Promise<Outcome> {
    const status = await this.device.fus!.command(op.opcode, op.data);
    if (status.ok) return ok(0);
    return {
      status: DfuStatus.errVENDOR,
      busyMs: 0,
      detail: `FUS command 0x${op.opcode.toString(16)} failed: state 0x${status.state.toString(16)} error 0x${status.error.toString(16)}`,
    };
  }

  #command(cmd: DfuseCommandFrame): Outcome {
    const chip = this.device.chip;
    switch (cmd.kind) {
      case "get-commands":
        return ok(0);
      case "set-address":
        // Allowed under RDP (AN3156 §5.2); the address must be in the selected memory.
        if (!this.#mapped(cmd.address, 1) && !this.#fusReadable(cmd.address, 1))
          return target(`${hex32(cmd.address)} is not in ${this.#memoryName()}`);
        this.#pointer = this.#jumpAddress = cmd.address;
        return ok(0);
      case "erase-page": {
        if (this.#alt !== 0 || !this.#mapped(cmd.address, 1, "erasable"))
          return target(`${hex32(cmd.address)} is not erasable flash`);
        if (this.#skipsErase()) {
          this.#log(`planted defect: erase of page ${chip.pageOf(cmd.address)} after a power loss skipped`);
          return ok(0);
        }
        return this.#access(chip.erasePage(chip.pageOf(cmd.address)), chip.pageOf(cmd.address));
      }
      case "mass-erase":
        // The WB55 ROM offers no mass erase (CubeProgrammer refuses it; the user flash ends at SFSA).
        if (!this.device.profile.massErase) return target(`${this.device.profile.name} has no mass erase`);
        return this.#access(chip.massErase());
      case "read-unprotect": {
        const r = chip.readoutUnprotect();
        if (!r.ok) return { status: DfuStatus.errVENDOR, busyMs: 0, detail: r.detail };
        return {
          status: DfuStatus.OK,
          busyMs: r.busyMs,
          reset: "Read Unprotect: flash and RAM erased, system reset",
        };
      }
    }
  }

  #write(op: Extract<Pending, { kind: "write" }>): Outcome {
    const { address, data } = op;
    if (!this.#mapped(address, data.length, "writable"))
      return target(`${hex32(address)}+${data.length} is not writable in ${this.#memoryName()}`);
    this.#jumpAddress = address;
    const chip = this.device.chip;
    const region = chip.regionOf(address, data.length);
    if (region === "option-bytes") {
      // Whole block from the start of the area, then the ROM resets to load it (AN3156 §5.1).
      const ob = this.device.profile.optionBytes;
      if (address !== ob.base || data.length !== ob.size)
        return target(`option bytes take one ${ob.size}-byte block at ${hex32(ob.base)}`);
      const r = chip.write(address, data);
      if (!r.ok) return this.#access(r);
      return { status: DfuStatus.OK, busyMs: r.busyMs, reset: "option bytes written: system reset" };
    }
    if (region === "flash") {
      const last = chip.pageOf(address + data.length - 1);
      if (last >= chip.userPages) return target(`${hex32(address)} reaches the secure area above SFSA`);
    }
    const r = chip.write(address, data);
    return this.#access(r, region === "flash" ? chip.pageOf(address) : undefined);
  }

  /**
   * Chip refusals as DfuSe statuses: unmapped → errTARGET, RDP → errVENDOR, a write-protected
   * page → OK with nothing done (AN3156: no error for WRP sectors), flash errors → errVENDOR.
   */
  /** The planted defect: true for the first erase since a power loss (and notes this erase). */
  #skipsErase(): boolean {
    const power = this.device.power;
    const since = lastEraseMark.get(this.device) ?? 0;
    lastEraseMark.set(this.device, power.historyCount);
    if (!this.quirks.skipEraseAfterPowerLoss) return false;
    return power.historySince(since).some((e) => e.event === "lost");
  }

  #access(r: AccessResult<unknown>, page?: number): Outcome {
    if (r.ok) return ok(r.busyMs);
    switch (r.refusal) {
      case "unmapped":
        return target(r.detail);
      case "protected":
        if (page !== undefined && page >= this.device.chip.userPages) return target(r.detail);
        this.#log(`write-protected, ignored: ${r.detail}`);
        return ok(0);
      default:
        return { status: DfuStatus.errVENDOR, busyMs: 0, detail: r.detail };
    }
  }

  #read(
    address: number,
    length: number,
  ): { ok: true; data: Uint8Array } | { ok: false; status: DfuStatus; detail: string } {
    const map = this.#maps[this.#alt]!;
    if (this.#fusReadable(address, length) && address < DEVICE_FEATURE_BASE) {
      const r = this.device.chip.read(address, length);
      if (r.ok) return { ok: true, data: r.value.slice() };
      return {
        ok: false,
        status: r.refusal === "rdp" ? DfuStatus.errVENDOR : DfuStatus.errTARGET,
        detail: r.detail,
      };
    }
    const sector = sectorAt(map, address);
    if (!sector?.access.readable || address >= DEVICE_FEATURE_BASE)
      return {
        ok: false,
        status: DfuStatus.errTARGET,
        detail: `${hex32(address)} is not readable in ${map.name}`,
      };
    // A read running off the end of the memory returns what there is: a short frame ends the upload.
    let n = length;
    while (n > 0 && !covers(map, address, n, "readable")) n--;
    const r = this.device.chip.read(address, n);
    if (r.ok) return { ok: true, data: r.value.slice() };
    return {
      ok: false,
      status: r.refusal === "rdp" ? DfuStatus.errVENDOR : DfuStatus.errTARGET,
      detail: r.detail,
    };
  }

  async #manifest(): Promise<void> {
    this.#set(DfuState.dfuMANIFEST_WAIT_RESET, DfuStatus.OK);
    this.port.disconnect("manifestation: leaving DFU");
    const target = this.#jumpAddress;
    if (this.device.chip.vectorTable(target)) {
      this.#log(`leave: jump to ${hex32(target)}`);
      this.device.go(target);
    } else {
      // No program at the pointer: the ROM resets and the boot configuration decides (AN3156 §5.5).
      await this.device.systemReset(`leave: no valid vector table at ${hex32(target)}`).catch((e) => {
        if (!(e instanceof PowerLostError)) throw e;
      });
    }
  }

  #mapped(address: number, length: number, need: "readable" | "erasable" | "writable" = "readable"): boolean {
    if (address >= DEVICE_FEATURE_BASE) return false; // the FUS model serves Device Feature
    const map = this.#maps[this.#alt]!;
    // A block or a page lies in one sector: answered without listing the sectors touched.
    const first = sectorAt(map, address);
    if (!first) return false;
    if (address + length <= first.start + first.size) return first.access[need];
    return covers(map, address, length, need);
  }

  /**
   * WB55 with CPU2: the FUS virtual addresses and SRAM (device information table in SRAM2a),
   * which the ROM reads on any alt (CubeProgrammer `-r32 0x20030030` over USB, qFlipper).
   */
  #fusReadable(address: number, length: number): boolean {
    if (!this.device.fus) return false;
    return address >= DEVICE_FEATURE_BASE || this.device.chip.regionOf(address, length) === "sram";
  }

  #memoryName(): string {
    return this.#maps[this.#alt]!.name;
  }

  #illegal(what: string): ControlReply {
    this.#log(`${what} not legal in ${stateName(this.#state)}: stall, dfuERROR errSTALLEDPKT`);
    this.#pending = undefined;
    this.#set(DfuState.dfuERROR, DfuStatus.errSTALLEDPKT);
    return { status: "stall" };
  }

  #set(state: DfuState, status: DfuStatus): void {
    if (state !== this.#state || status !== this.#status)
      // Its own kind: a report draws the DFU state as bands, apart from the ROM's messages.
      this.device.log(
        "dfu state",
        status === DfuStatus.OK ? stateName(state) : `${stateName(state)} ${statusName(status)}`,
      );
    this.#state = state;
    this.#status = status;
  }

  #log(detail: string): void {
    this.device.log("dfu", detail);
  }
}

/**
 * A DfuSe operation from its dfuDNBUSY reply until it has run: `done` settles as the
 * operation does, once the reply is on the wire and `settle` hands over its run.
 */
class BusyOperation {
  readonly done: Promise<void>;
  settle!: (run: Promise<void>) => void;

  constructor(readonly erase: boolean) {
    this.done = new Promise<void>((resolve) => {
      this.settle = resolve;
    });
  }
}

/** Erases are what the L4 quirk stalls GETSTATUS for. */
function isErase(op: Pending): boolean {
  return op.kind === "command" && ERASING.has(op.cmd.kind);
}

const ERASING = new Set<DfuseCommandFrame["kind"]>(["erase-page", "mass-erase", "read-unprotect"]);

/** Fault-plan event of a data block ("after DNLOAD block k"; dfu-status faults act before it is written). */
const BLOCK_EVENT = "dfu.dnload.block";

/** Fault-plan event names per request code ("dfu.request.GETSTATUS"), built once. */
const REQUEST_EVENTS = new Map<number, string>();

function requestEvent(request: number, name: string): string {
  let event = REQUEST_EVENTS.get(request);
  if (event === undefined) {
    event = `dfu.request.${name.replace("DFU_", "")}`;
    REQUEST_EVENTS.set(request, event);
  }
  return event;
}

const ABORTABLE = new Set<DfuState>([DfuState.dfuIDLE, DfuState.dfuDNLOAD_IDLE, DfuState.dfuUPLOAD_IDLE]);

function ok(busyMs: number): Outcome {
  return { status: DfuStatus.OK, busyMs };
}

function target(detail: string): Outcome {
  return { status: DfuStatus.errTARGET, busyMs: 0, detail };
}

function describe(op: Pending): string {
  if (op.kind === "fus") return `FUS command 0x${op.opcode.toString(16)}`;
  return op.kind === "write" ? `write ${hex32(op.address)}+${op.data.length}` : op.cmd.kind;
}
