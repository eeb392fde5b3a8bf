/**
 * The two bootloader paths to FUS (AN5185 §7): USB DFU (DfuSe DNLOAD/UPLOAD, Tables 18–19)
 * and USART (special read/write 0x50/0x51, Tables 15–17). A link answers `undefined` when the
 * device said nothing (a reset under the request, the device off the bus) and `reconnect`
 * brings it back: re-enumeration on USB, a fresh 0x7F sync on USART.
 */

import { DfuState, DfuStatus, type DfuStatusReply } from "../../protocol/dfu/index.js";
import {
  DFU_UPLOAD_GET_STATE,
  DFU_UPLOAD_STORE_USR_KEY,
  decodeCommandStatus,
  decodeDfuState,
  decodeUsartStateData,
  FusBootloaderOpcode,
  type FusCommandStatus,
} from "../../protocol/fus/index.js";
import type { ByteStream } from "../../transport/byte-stream.js";
import type { Clock } from "../../transport/clock.js";
import type { UsbBus, UsbFilter } from "../../transport/usb.js";
import { DfuClient, DfuError, type DfuOpenOptions } from "../dfu/index.js";
import type { OperationSource } from "../operation.js";
import { UsartClient, type UsartTimeouts } from "../stm32-usart/index.js";

export interface FusLink {
  readonly kind: "usb-dfu" | "usart";
  readonly clock: Clock;
  /** The link's operations and transcript, as reports show them. */
  readonly source: OperationSource;
  getState(): Promise<{ state: number; error: number } | undefined>;
  command(opcode: number, data?: Uint8Array): Promise<FusCommandStatus | undefined>;
  /** Key index after FUS_STORE_USR_KEY (DFU: upload 0xFFFF0059; USART: the status packet). */
  storedKeyIndex(): Promise<number | undefined>;
  readMemory(address: number, length: number): Promise<Uint8Array>;
  readOptionBytes(): Promise<Uint8Array>;
  /** Erase the pages and write `data` at the 4 KB-aligned `address`. */
  writeFlash(address: number, data: Uint8Array): Promise<void>;
  /** Resets the link noticed on its own since the last call (USART: a fresh ROM answered the sync). */
  takeResets?(): number;
  /** Get the link back after a reset; throws when it does not come back within `timeoutMs`. */
  reconnect(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

const OPTION_BYTES = { base: 0x1fff_8000, size: 0x80 };

/**
 * The DFU link's way back after a reset FUS made: noticed at a GET_STATE poll, up to a poll
 * interval late, so not timed as a "re-enumeration after reset" (the device may be back already).
 */
const FUS_RECONNECT_TITLE = "re-enumerate after a FUS reset";

/** FUS over the ROM's USB DFU interface. */
export class DfuFusLink implements FusLink {
  readonly kind = "usb-dfu" as const;
  #dfu: DfuClient;
  #lastKeyIndex: number | undefined;

  private constructor(dfu: DfuClient) {
    this.#dfu = dfu;
  }

  /** Opens the ROM's DFU interface (the DFU client contract's `open`) for FUS commands. */
  static async open(bus: UsbBus, filter: UsbFilter, opts: DfuOpenOptions): Promise<DfuFusLink> {
    return new DfuFusLink(await DfuClient.open(bus, filter, opts));
  }

  static over(dfu: DfuClient): DfuFusLink {
    return new DfuFusLink(dfu);
  }

  get dfu(): DfuClient {
    return this.#dfu;
  }

  get source(): OperationSource {
    return { kind: "dfu", transcript: this.#dfu.transcript };
  }

  get clock(): Clock {
    return this.#dfu.clock;
  }

  async getState(): Promise<{ state: number; error: number } | undefined> {
    const r = await this.getStateBytes();
    return r && decodeDfuState(r);
  }

  /**
   * One FUS_GET_STATE as AN5185 Table 19 maps it: UPLOAD of 2 bytes at 0xFFFF0054, the
   * bytes as the device returned them ([state, error]); undefined = no answer (a reset).
   */
  async getStateBytes(): Promise<Uint8Array | undefined> {
    return this.#quiet(async () => {
      await this.#dfu.toIdle("FUS_GET_STATE");
      await this.#dfu.setAddress(DFU_UPLOAD_GET_STATE);
      await this.#dfu.abort(); // UPLOAD needs dfuIDLE (AN3156: Set Address leaves dfuDNLOAD-IDLE)
      const r = await this.#dfu.uploadBlock(2, 2, "FUS_GET_STATE (UPLOAD 0xFFFF0054)");
      return r === "stall" ? undefined : r;
    });
  }

  /**
   * One FUS command as AN5185 Table 18 maps it: DNLOAD wBlockNum 0 carrying [opcode, data…],
   * then GETSTATUS while the device says dfuDNBUSY (as Set Address / Erase, AN3156). Every
   * GETSTATUS reply in order; undefined = no answer (a reset).
   */
  async commandStatuses(
    opcode: number,
    data: Uint8Array = new Uint8Array(0),
  ): Promise<DfuStatusReply[] | undefined> {
    return this.#quiet(async () => {
      const what = `FUS command 0x${opcode.toString(16)}`;
      await this.#dfu.toIdle(what);
      await this.#dfu.dnload(0, Uint8Array.of(opcode, ...data), what);
      const replies = [await this.#dfu.getStatus()];
      for (let i = 0; i < 100 && replies.at(-1)!.state === DfuState.dfuDNBUSY; i++) {
        // bwPollTimeout as the DFU client bounds it: never beyond one transfer's timeout.
        await this.clock.sleep(Math.max(1, this.#dfu.pollWaitMs(replies.at(-1)!)));
        replies.push(await this.#dfu.getStatus());
      }
      return replies;
    });
  }

  async command(opcode: number, data = new Uint8Array(0)): Promise<FusCommandStatus | undefined> {
    const replies = await this.commandStatuses(opcode, data);
    if (!replies) return undefined;
    const s = replies.at(-1)!;
    return this.#quiet(async () => {
      if (s.state === DfuState.dfuDNLOAD_IDLE && s.status === DfuStatus.OK) {
        if (opcode === FusBootloaderOpcode.STORE_USR_KEY) {
          await this.#dfu.abort();
          await this.#dfu.setAddress(DFU_UPLOAD_STORE_USR_KEY);
          await this.#dfu.abort();
          const r = await this.#dfu.uploadBlock(2, 1, "FUS_STORE_USR_KEY index (UPLOAD 0xFFFF0059)");
          this.#lastKeyIndex = r === "stall" ? undefined : r[0];
        }
        return { ok: true };
      }
      // DFU reports a FUS "Fail" as dfuERROR + errVENDOR; the state/error are not in it.
      await this.#dfu.clearStatus().catch(() => {});
      return { ok: false, state: 0xff, error: 0xff };
    });
  }

  async storedKeyIndex(): Promise<number | undefined> {
    return this.#lastKeyIndex;
  }

  async readMemory(address: number, length: number): Promise<Uint8Array> {
    await this.#dfu.toIdle("read memory");
    await this.#dfu.setAddress(address);
    await this.#dfu.abort();
    const r = await this.#dfu.uploadBlock(2, length, `UPLOAD 0x${address.toString(16)}+${length}`);
    if (r === "stall")
      throw new DfuError({
        kind: "stall",
        operation: "read memory",
        address,
        detail: `UPLOAD of ${length} bytes stalled`,
        transcript: this.#dfu.transcript,
      });
    await this.#dfu.toIdle("read memory");
    return r;
  }

  async readOptionBytes(): Promise<Uint8Array> {
    const alt = this.#dfu.alt;
    await this.#dfu.selectAlt(1);
    try {
      return await this.readMemory(OPTION_BYTES.base, OPTION_BYTES.size);
    } finally {
      await this.#dfu.selectAlt(alt);
    }
  }

  async writeFlash(address: number, data: Uint8Array): Promise<void> {
    await this.#dfu.download({ source: "FUS image", format: "bin", segments: [{ address, data }] });
  }

  async reconnect(timeoutMs: number): Promise<void> {
    const deadline = this.clock.now() + timeoutMs;
    for (;;) {
      try {
        await this.#dfu.reconnect(undefined, FUS_RECONNECT_TITLE);
        return;
      } catch (e) {
        if (this.clock.now() >= deadline) throw e;
      }
    }
  }

  async close(): Promise<void> {
    await this.#dfu.close();
  }

  /** A transfer that fails because the device went away is "no answer", not an error. */
  async #quiet<T>(work: () => Promise<T>): Promise<T | undefined> {
    try {
      return await work();
    } catch (e) {
      if (isGone(e)) return undefined;
      throw e;
    }
  }
}

function isGone(e: unknown): boolean {
  const kind = (e as { kind?: string }).kind;
  const name = (e as { name?: string }).name;
  return (
    kind === "disconnected" ||
    kind === "stale" ||
    kind === "stall" ||
    kind === "timeout" ||
    name === "NetworkError"
  );
}

/** Reply waits over USART: the first GET_STATE after an install may take 3.6 s (fact sheet §5.9: 6000 ms). */
export const FUS_USART_TIMEOUTS: Partial<UsartTimeouts> = {
  protectMs: 6000,
  byteMs: 500,
  // No pause between the sync and the command: FUS may restart the ROM in any pause, and a
  // fresh ROM takes the command byte as its autobaud byte (deaf until the next reset).
  nackSettleMs: 0,
};

/** FUS over the ROM's USART (special read 0x50 / special write 0x51). */
export class UsartFusLink implements FusLink {
  readonly kind = "usart" as const;
  readonly usart: UsartClient;
  readonly source: OperationSource;
  #synced = false;
  #lastKeyIndex: number | undefined;

  readonly #stream: ByteStream;

  constructor(
    stream: ByteStream,
    readonly clock: Clock,
    usart?: UsartClient,
  ) {
    this.#stream = stream;
    this.usart = usart ?? new UsartClient(stream, { clock, timeouts: FUS_USART_TIMEOUTS });
    this.source = { kind: "usart", transcript: this.usart.transcript };
    this.usart.events.on("synced", (e) => {
      if (e.how === "ack") this.#acks++;
    });
  }

  async getState(): Promise<{ state: number; error: number } | undefined> {
    const r = await this.getStatePackets();
    return r && decodeUsartStateData(r.data);
  }

  async command(opcode: number, data = new Uint8Array(0)): Promise<FusCommandStatus | undefined> {
    const status = await this.commandPacket(opcode, data);
    if (!status) return undefined;
    const decoded = decodeCommandStatus(status);
    // STORE_USR_KEY answers [0x00, state, key index] (Table 17, §7.1.1 "error code (or key index)").
    if (opcode === FusBootloaderOpcode.STORE_USR_KEY && decoded.ok && status.length >= 3)
      this.#lastKeyIndex = status[2];
    return decoded;
  }

  /**
   * FUS_GET_STATE as AN5185 Table 16 maps it: special read 0x50, opcode 0x54, an empty
   * address packet; the data and status packets as the device sent them. undefined = no answer.
   */
  async getStatePackets(): Promise<{ data: Uint8Array; status: Uint8Array } | undefined> {
    return this.#quiet(() => this.usart.special(FusBootloaderOpcode.GET_STATE, new Uint8Array(0)));
  }

  /**
   * A FUS command as AN5185 Table 17 maps it: special write 0x51, the opcode, an empty
   * address packet and `data`; the status packet as the device sent it. undefined = no answer.
   */
  async commandPacket(opcode: number, data: Uint8Array = new Uint8Array(0)): Promise<Uint8Array | undefined> {
    return this.#quiet(() => this.usart.extendedSpecial(opcode, new Uint8Array(0), data));
  }

  /** Get (0x00) after a sync: the command codes the ROM lists (AN3155; AN5185 Table 15 adds 0x50/0x51). */
  async bootloaderCommands(): Promise<number[]> {
    this.#synced = false;
    await this.#sync();
    return (await this.usart.get()).commands;
  }

  async storedKeyIndex(): Promise<number | undefined> {
    return this.#lastKeyIndex;
  }

  async readMemory(address: number, length: number): Promise<Uint8Array> {
    await this.#sync();
    return this.usart.read(address, length);
  }

  async readOptionBytes(): Promise<Uint8Array> {
    return this.readMemory(OPTION_BYTES.base, OPTION_BYTES.size);
  }

  async writeFlash(address: number, data: Uint8Array): Promise<void> {
    await this.#sync();
    const first = Math.floor((address - 0x0800_0000) / 4096);
    const pages = Math.ceil((address - 0x0800_0000 + data.length) / 4096) - first;
    await this.usart.erasePages(Array.from({ length: pages }, (_, i) => first + i));
    await this.usart.write(address, data);
  }

  async reconnect(timeoutMs: number): Promise<void> {
    const deadline = this.clock.now() + timeoutMs;
    this.#synced = false;
    this.#everSynced = false; // the caller already knows about this reset
    for (;;) {
      try {
        await this.#sync();
        return;
      } catch (e) {
        if (this.clock.now() >= deadline) throw e;
        await this.clock.sleep(100);
      }
    }
  }

  /** Closes the port the link was given: a lab board's tty stays locked while it is open. */
  async close(): Promise<void> {
    await this.#stream.close();
  }

  /**
   * 0x7F before the first command after a (possible) reset: a fresh ROM needs its autobaud
   * byte. An ACK (not the NACK of a ROM already synced) means the chip reset since the last
   * exchange: counted for the trace.
   */
  async #sync(): Promise<void> {
    if (this.#synced) return;
    const before = this.#acks;
    // connect() only: resync's 0xFF 0x00 would make a ROM that is just starting deaf (its
    // autobaud takes the first byte), and FUS restarts the ROM often.
    await this.usart.connect();
    if (this.#acks > before && this.#everSynced) this.#resets++;
    this.#everSynced = true;
    this.#synced = true;
  }

  #acks = 0;
  #everSynced = false;
  #resets = 0;

  takeResets(): number {
    const n = this.#resets;
    this.#resets = 0;
    return n;
  }

  async #quiet<T>(work: () => Promise<T>): Promise<T | undefined> {
    // FUS may have reset the chip since the last exchange without a word on the line: a fresh
    // ROM takes its first byte as the autobaud byte, so sync before every FUS command.
    this.#synced = false;
    try {
      await this.#sync();
      return await work();
    } catch (e) {
      const name = (e as { name?: string }).name ?? "";
      if (name === "UsartTimeoutError" || name === "UnexpectedReplyError" || name === "NackError") {
        this.#synced = false;
        return undefined;
      }
      throw e;
    }
  }
}
