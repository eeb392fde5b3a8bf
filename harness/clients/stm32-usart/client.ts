/**
 * Host driver for the STM32 USART bootloader (AN3155) over any ByteStream: a lab board's
 * USB-serial adapter, an emulator on a pty, or the in-memory pair of an emulated rig.
 * It probes like stm32flash (sync, Get Version, Get, Get ID), recovers the link like
 * stm32flash (0x7F twice, then 0xFF 0x00 until NACK), and times every wait on the
 * stream's clock with a per-operation budget (fact sheet §4.3).
 */

import {
  ACK,
  annotateUsart,
  BUSY,
  Command,
  CRC_DEFAULT_INIT,
  CRC_DEFAULT_POLY,
  commandFrame,
  commandName,
  countFrame,
  decodeCrcReply,
  decodeGetReply,
  decodeIdReply,
  decodeVersionReply,
  ExtendedEraseSpecial,
  encodeErase,
  encodeExtendedErase,
  encodeSpecialOpcode,
  encodeSpecialPacket,
  encodeWriteData,
  encodeWriteProtect,
  MAX_BLOCK,
  MAX_ERASE_PAGES,
  MAX_EXTENDED_SPECIAL_DATA,
  NACK,
  SYNC,
  UsartCodecError,
  u32Frame,
} from "../../protocol/stm32-usart/index.js";
import type { ByteStream } from "../../transport/byte-stream.js";
import type { Clock } from "../../transport/clock.js";
import { ReadTimeoutError, StreamClosedError } from "../../transport/errors.js";
import { recordStream, Transcript } from "../../transport/transcript.js";
import type { ClientOptions, HostClient } from "../contract.js";
import { operation } from "../operation.js";
import {
  LinkClosedError,
  NackError,
  UnexpectedReplyError,
  UnsupportedCommandError,
  UsartError,
  UsartTimeoutError,
} from "./errors.js";
import { UsartEmitter, type UsartEvents } from "./events.js";

/** Waits in ms of the stream's clock. Defaults follow stm32flash (fact sheet §4.3). */
export interface UsartTimeouts {
  /** One reply byte or short reply (stm32flash's serial VTIME). */
  byteMs: number;
  /** Write Memory block programmed. */
  writeBlockMs: number;
  /** Per page of an Erase / Extended Erase. */
  pageEraseMs: number;
  /** Mass erase and Readout Unprotect (which mass-erases). */
  massEraseMs: number;
  /** Write (Un)Protect, Readout Protect. */
  protectMs: number;
  /** Total budget of the 0xFF 0x00 resync loop. */
  resyncMs: number;
  /** Bootloader restart after a reset it did itself, before the client syncs again. */
  resetMs: number;
  /** How long a NACK may be followed by a second one (parts under RDP) before the next command. */
  nackSettleMs: number;
}

export const DEFAULT_TIMEOUTS: Readonly<UsartTimeouts> = Object.freeze({
  byteMs: 500,
  writeBlockMs: 1000,
  pageEraseMs: 5000,
  massEraseMs: 35_000,
  protectMs: 1000,
  resyncMs: 35_000,
  resetMs: 20,
  nackSettleMs: 10,
});

export interface UsartClientOptions {
  /** The clock of the stream (virtual on emulated rigs). */
  clock: Clock;
  /** Where to record the session; a new one on `clock` when absent. */
  transcript?: Transcript;
  timeouts?: Partial<UsartTimeouts>;
}

export interface DeviceInfo {
  /** Protocol version from Get Version (0x31 = V3.1). */
  version: number;
  option1: number;
  option2: number;
  /** Command codes from Get. */
  commands: number[];
  pid: number;
}

export type ChecksumForm = "an3155" | "stm32flash";

/** {@link UsartClient.open}'s options: the client contract. */
export type UsartOpenOptions = ClientOptions<UsartTimeouts>;

export class UsartClient implements HostClient<UsartEvents> {
  readonly transcript: Transcript;
  readonly timeouts: Readonly<UsartTimeouts>;
  readonly events = new UsartEmitter();
  /** How the last sync went: "ack" on a fresh bootloader, "nack" when it was synced already. */
  synced: "ack" | "nack" | undefined;
  readonly #stream: ByteStream;
  readonly #clock: Clock;
  #commands: number[] | undefined;
  #op = "idle";
  /** Report steps open around the running operation: commands inside one are not steps of their own. */
  #stepDepth = 0;

  /**
   * The client contract's entry point: a client on `stream`, synced (0x7F) with the
   * bootloader; `synced` says how.
   */
  static async open(stream: ByteStream, opts: UsartOpenOptions): Promise<UsartClient> {
    const client = new UsartClient(stream, opts);
    await client.connect();
    return client;
  }

  /** A client not yet synced; prefer {@link UsartClient.open}. */
  constructor(stream: ByteStream, opts: UsartClientOptions) {
    this.#clock = opts.clock;
    this.transcript = opts.transcript ?? new Transcript({ clock: opts.clock });
    this.transcript.annotator ??= annotateUsart;
    this.#stream = recordStream(stream, this.transcript);
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  }

  /** Ends the session: closes the stream (the port, or the emulator's end of the line). */
  async close(): Promise<void> {
    if (!this.#stream.closed) await this.#stream.close();
  }

  /** Codes from the last Get, if one ran. */
  get commands(): readonly number[] | undefined {
    return this.#commands;
  }

  // ---- link ---------------------------------------------------------------------------

  /**
   * Autobaud: 0x7F, expect ACK. NACK means the bootloader was already synced (a previous
   * session did not end cleanly); no reply means the 0x7F was taken as a command byte, so a
   * second 0x7F (not its complement) must draw a NACK. An ACK to the second one means the
   * first was lost: the part was not listening yet (still booting after power-on or reset),
   * and the second one did the autobaud. stm32flash gives up there; a rack's relay or PDU
   * makes that race common, so it counts as synced.
   */
  async connect(): Promise<"ack" | "nack"> {
    return this.#run("sync", async () => {
      await this.#write(Uint8Array.of(SYNC));
      let reply: number | undefined;
      try {
        reply = await this.#byte(this.timeouts.byteMs);
      } catch (e) {
        if (!(e instanceof UsartTimeoutError)) throw e;
        this.transcript.note("no reply to 0x7F: sending a second one, expecting NACK");
        await this.#write(Uint8Array.of(SYNC));
        reply = await this.#byte(this.timeouts.byteMs);
        if (reply === ACK)
          this.transcript.note("ACK to the second 0x7F: the first was sent before the part listened");
      }
      if (reply !== ACK && reply !== NACK) throw new UnexpectedReplyError(this.#op, this.transcript, reply);
      // Some parts (L412/422) ACK the sync byte twice: let the extra one arrive and drop it.
      await this.#settle();
      const how = reply === ACK ? "ack" : "nack";
      this.synced = how;
      await this.events.emit("synced", { how });
      return how;
    });
  }

  /** stm32flash's resync: 0xFF 0x00 (a bad command, whatever state the bootloader is in) until NACK. */
  async resync(): Promise<void> {
    await this.#run("resync", async () => {
      const deadline = this.#clock.now() + this.timeouts.resyncMs;
      for (;;) {
        await this.#write(Uint8Array.of(0xff, 0x00));
        try {
          if ((await this.#byte(this.timeouts.byteMs)) === NACK) break;
        } catch (e) {
          if (!(e instanceof UsartTimeoutError) || this.#clock.now() >= deadline) throw e;
        }
      }
      await this.#settle();
      await this.events.emit("synced", { how: "resync" });
    });
  }

  /** Whatever state the link is in (fresh after a reset, synced, mid-command): get it back. */
  async recover(): Promise<void> {
    try {
      await this.connect();
    } catch (e) {
      if (e instanceof LinkClosedError) throw e;
      await this.resync();
    }
  }

  /** connect, Get Version, Get, Get ID: stm32flash's probe order. */
  async probe(): Promise<DeviceInfo> {
    return this.#step("probe: sync, Get Version, Get, Get ID", async () => {
      await this.connect();
      const v = await this.getVersion();
      const get = await this.get();
      const pid = await this.getId();
      return { ...v, commands: get.commands, pid };
    });
  }

  // ---- information ----------------------------------------------------------------------

  async get(): Promise<{ version: number; commands: number[] }> {
    return this.#run("Get", async () => {
      await this.#command(Command.Get);
      const n = await this.#read(1, this.timeouts.byteMs);
      const rest = await this.#read(n[0]! + 1, this.timeouts.byteMs);
      await this.#ack(this.timeouts.byteMs);
      const reply = decodeGetReply(Uint8Array.of(...n, ...rest));
      this.#commands = reply.commands;
      return reply;
    });
  }

  async getVersion(): Promise<{ version: number; option1: number; option2: number }> {
    return this.#run("Get Version", async () => {
      await this.#command(Command.GetVersion);
      const body = await this.#read(3, this.timeouts.byteMs);
      await this.#ack(this.timeouts.byteMs);
      return decodeVersionReply(body);
    });
  }

  async getId(): Promise<number> {
    return this.#run("Get ID", async () => {
      await this.#command(Command.GetId);
      const n = await this.#read(1, this.timeouts.byteMs);
      const rest = await this.#read(n[0]! + 1, this.timeouts.byteMs);
      await this.#ack(this.timeouts.byteMs);
      return decodeIdReply(Uint8Array.of(...n, ...rest));
    });
  }

  // ---- memory ---------------------------------------------------------------------------

  /** One Read Memory command: 1..256 bytes. */
  async readMemory(address: number, length: number): Promise<Uint8Array> {
    const addr = u32Frame(address);
    const count = countFrame(length);
    return this.#run(`Read Memory ${hex(address)}+${length}`, async () => {
      await this.#command(Command.ReadMemory);
      await this.#send(addr, this.timeouts.byteMs);
      await this.#send(count, this.timeouts.byteMs);
      return this.#read(length, this.timeouts.byteMs + length);
    });
  }

  /** Any length, in 256-byte Read Memory commands, with a block-read event per block. */
  async read(address: number, length: number): Promise<Uint8Array> {
    return this.#step(
      `read ${length} bytes from ${hex(address)} (${Math.ceil(length / MAX_BLOCK)} × Read Memory)`,
      async () => {
        checkRange(address, length);
        const out = new Uint8Array(length);
        const count = Math.ceil(length / MAX_BLOCK);
        for (let i = 0; i < count; i++) {
          const n = Math.min(MAX_BLOCK, length - i * MAX_BLOCK);
          out.set(await this.readMemory(address + i * MAX_BLOCK, n), i * MAX_BLOCK);
          await this.events.emit("block-read", {
            address: address + i * MAX_BLOCK,
            length: n,
            index: i,
            count,
          });
        }
        return out;
      },
    );
  }

  /** One Write Memory command: 1..256 bytes at a 4-byte-aligned address, padded with 0xFF to a multiple of 4. */
  async writeMemory(address: number, data: Uint8Array): Promise<void> {
    await this.#writeBlock(writeBlock(address, data));
  }

  /** Any length, in 256-byte blocks, with a block-written event (progress) after each. */
  async write(address: number, data: Uint8Array): Promise<void> {
    return this.#step(
      `write ${data.length} bytes at ${hex(address)} (${Math.ceil(data.length / MAX_BLOCK)} × Write Memory)`,
      async () => {
        checkRange(address, data.length);
        if (address % 4 !== 0) throw new UsartCodecError("address", `${hex(address)} is not 4-byte aligned`);
        const count = Math.ceil(data.length / MAX_BLOCK);
        const block = (i: number) =>
          writeBlock(address + i * MAX_BLOCK, data.subarray(i * MAX_BLOCK, (i + 1) * MAX_BLOCK));
        let next = block(0);
        for (let i = 0; i < count; i++) {
          const current = next;
          // The next block's frames are built while this one programs, off the link's critical path.
          await this.#writeBlock(current, () => {
            if (i + 1 < count) next = block(i + 1);
          });
          await this.events.emit("block-written", {
            address: current.address,
            length: current.length,
            index: i,
            count,
          });
        }
      },
    );
  }

  /** Page erase with whichever of Erase / Extended Erase the bootloader lists. */
  async erasePages(pages: number[]): Promise<void> {
    return this.#step(`erase ${pages.length} page${pages.length === 1 ? "" : "s"}`, async () => {
      if (pages.length === 0) throw new UsartCodecError("pages", "expected at least one page");
      const extended = await this.#eraseCommand();
      const chunk = extended ? 512 : MAX_ERASE_PAGES;
      for (let i = 0; i < pages.length; i += chunk) {
        const part = pages.slice(i, i + chunk);
        const frame = extended
          ? encodeExtendedErase({ kind: "pages", pages: part })
          : encodeErase({ kind: "pages", pages: part });
        await this.#run(
          `${extended ? "Extended Erase" : "Erase"} ${part.length} page(s) from ${part[0]}`,
          async () => {
            await this.#command(extended ? Command.ExtendedErase : Command.Erase);
            await this.#send(frame, this.#pagesEraseBudget(part.length));
          },
        );
        await this.events.emit("erased", { pages: part });
      }
    });
  }

  /**
   * How long an erase of `pages` pages may take: stm32flash's per-page budget times the pages,
   * but never more than a mass erase's. A board whose power went mid-erase would otherwise
   * keep the host waiting 5 s a page (320 s for 64 pages), past any test's own budget, and
   * the test would end on its timeout instead of this client's error with the transcript.
   */
  #pagesEraseBudget(pages: number): number {
    const { pageEraseMs, massEraseMs } = this.timeouts;
    return Math.min(pages * pageEraseMs, Math.max(pageEraseMs, massEraseMs));
  }

  /** Global erase (0x43 0xFF 0x00) or Extended Erase 0xFFFF. A WB55 never answers the latter. */
  async massErase(): Promise<void> {
    const extended = await this.#eraseCommand();
    await this.#run("mass erase", async () => {
      await this.#command(extended ? Command.ExtendedErase : Command.Erase);
      const frame = extended
        ? encodeExtendedErase({ kind: "special", code: ExtendedEraseSpecial.Mass })
        : encodeErase({ kind: "global" });
      await this.#send(frame, this.timeouts.massEraseMs);
    });
    await this.events.emit("erased", { pages: "mass" });
  }

  /** Extended Erase bank codes 0xFFFE / 0xFFFD. */
  async eraseBank(bank: 1 | 2): Promise<void> {
    const frame = encodeExtendedErase({
      kind: "special",
      code: bank === 1 ? ExtendedEraseSpecial.Bank1 : ExtendedEraseSpecial.Bank2,
    });
    await this.#run(`bank ${bank} erase`, async () => {
      await this.#command(Command.ExtendedErase);
      await this.#send(frame, this.timeouts.massEraseMs);
    });
  }

  /** Jump to the program whose vector table is at `address`; the bootloader stops answering. */
  async go(address: number): Promise<void> {
    const addr = u32Frame(address);
    await this.#run(`Go ${hex(address)}`, async () => {
      await this.#command(Command.Go);
      await this.#send(addr, this.timeouts.byteMs);
    });
  }

  // ---- protection: the bootloader resets itself after each of these --------------------

  async writeProtect(sectors: number[]): Promise<void> {
    const frame = encodeWriteProtect(sectors);
    await this.#run(`Write Protect ${sectors.length} sector(s)`, async () => {
      await this.#command(Command.WriteProtect);
      await this.#send(frame, this.timeouts.protectMs);
    });
    await this.#afterReset("Write Protect");
  }

  async writeUnprotect(): Promise<void> {
    await this.#twoAck("Write Unprotect", Command.WriteUnprotect, this.timeouts.protectMs);
  }

  async readoutProtect(): Promise<void> {
    await this.#twoAck("Readout Protect", Command.ReadoutProtect, this.timeouts.protectMs);
  }

  /** Mass-erases the flash, then RDP goes back to level 0 (second NACK if the erase failed). */
  async readoutUnprotect(): Promise<void> {
    await this.#twoAck("Readout Unprotect", Command.ReadoutUnprotect, this.timeouts.massEraseMs);
  }

  // ---- Get Checksum and Special ----------------------------------------------------------

  /**
   * CRC of `length` bytes at `address` computed by the bootloader. `an3155` sends the
   * length in words plus polynomial and initial value (AN3155 Rev 20); `stm32flash` sends
   * the length in bytes and nothing more, as stm32flash does.
   */
  async getChecksum(
    address: number,
    length: number,
    opts: { form?: ChecksumForm; poly?: number; init?: number } = {},
  ): Promise<number> {
    const form = opts.form ?? "an3155";
    if (address % 4 !== 0) throw new UsartCodecError("address", `${hex(address)} is not 4-byte aligned`);
    if (!(Number.isInteger(length) && length > 0 && length % 4 === 0))
      throw new UsartCodecError("length", `expected a positive multiple of 4, got ${length}`);
    const frames = [
      u32Frame(address),
      u32Frame(form === "an3155" ? length / 4 : length, "length"),
      ...(form === "an3155"
        ? [
            u32Frame(opts.poly ?? CRC_DEFAULT_POLY, "polynomial"),
            u32Frame(opts.init ?? CRC_DEFAULT_INIT, "init"),
          ]
        : []),
    ];
    return this.#run(`Get Checksum (${form}) ${hex(address)}+${length}`, async () => {
      await this.#command(Command.GetChecksum);
      for (const f of frames) await this.#send(f, this.timeouts.byteMs);
      await this.#ack(this.timeouts.byteMs + length / 64);
      return decodeCrcReply(await this.#read(5, this.timeouts.byteMs));
    });
  }

  /** Special 0x50: opcode, one data packet (≤128 B); the reply is a data packet and a status packet. */
  async special(opcode: number, data: Uint8Array): Promise<{ data: Uint8Array; status: Uint8Array }> {
    const op = encodeSpecialOpcode(opcode);
    const packet = encodeSpecialPacket(data);
    return this.#run(`Special 0x${opcode.toString(16)}`, async () => {
      await this.#command(Command.Special);
      await this.#send(op, this.timeouts.byteMs);
      await this.#send(packet, this.timeouts.protectMs);
      const reply = await this.#replyPacket();
      const status = await this.#replyPacket();
      await this.#ack(this.timeouts.byteMs);
      return { data: reply, status };
    });
  }

  /** Extended Special 0x51: opcode, a ≤128 B packet and a ≤1024 B packet; the reply is one status packet. */
  async extendedSpecial(opcode: number, data: Uint8Array, data2: Uint8Array): Promise<Uint8Array> {
    const op = encodeSpecialOpcode(opcode);
    const p1 = encodeSpecialPacket(data);
    const p2 = encodeSpecialPacket(data2, MAX_EXTENDED_SPECIAL_DATA);
    return this.#run(`Extended Special 0x${opcode.toString(16)}`, async () => {
      await this.#command(Command.ExtendedSpecial);
      await this.#send(op, this.timeouts.byteMs);
      await this.#send(p1, this.timeouts.byteMs);
      await this.#send(p2, this.timeouts.protectMs);
      const status = await this.#replyPacket();
      await this.#ack(this.timeouts.byteMs);
      return status;
    });
  }

  // ---- internals -------------------------------------------------------------------------

  async #twoAck(what: string, code: number, timeoutMs: number): Promise<void> {
    await this.#run(what, async () => {
      await this.#command(code);
      await this.#ack(timeoutMs);
    });
    await this.#afterReset(what);
  }

  /** The bootloader reset itself: wait for it to start and sync again. */
  async #afterReset(what: string): Promise<void> {
    this.transcript.note(`${what}: the bootloader resets; syncing again`);
    await this.events.emit("reset", { after: what });
    await this.#clock.sleep(this.timeouts.resetMs);
    await this.connect();
  }

  async #eraseCommand(): Promise<boolean> {
    const cmds = this.#commands ?? (await this.get()).commands;
    if (cmds.includes(Command.ExtendedErase)) return true;
    if (cmds.includes(Command.Erase)) return false;
    throw new UnsupportedCommandError(
      "neither Erase (0x43) nor Extended Erase (0x44) listed by Get",
      "erase",
      this.transcript,
    );
  }

  /** Write Memory with frames built beforehand; `whileProgramming` runs once the data frame is out. */
  async #writeBlock(block: WriteBlock, whileProgramming?: () => void): Promise<void> {
    await this.#run(block.op, async () => {
      await this.#command(Command.WriteMemory);
      await this.#send(block.addressFrame, this.timeouts.byteMs);
      const acked = this.#send(block.dataFrame, this.timeouts.writeBlockMs);
      try {
        whileProgramming?.();
      } finally {
        await acked; // never left unawaited, whatever the callback does
      }
    });
  }

  async #command(code: number): Promise<void> {
    if (this.events.has("command")) await this.events.emit("command", { code, name: commandName(code) });
    await this.#send(commandFrame(code), this.timeouts.byteMs);
  }

  /** Write a frame and wait for its ACK. A failed write is the error to report, even when the ACK wait failed too. */
  async #send(frame: Uint8Array, timeoutMs: number): Promise<void> {
    // The reply is awaited while the write completes: on a real port the write callback
    // comes from the binding's worker, and waiting for it first costs a round trip per frame.
    // The read is set up first, so that once the frame is out the host has nothing left to
    // do but wait (on a busy machine, work after the write delays the device's answer).
    const acked = this.#ack(timeoutMs);
    const written = this.#write(frame);
    written.catch(() => {}); // reported below, whichever wait ends first
    try {
      await acked;
    } catch (e) {
      await written;
      throw e;
    }
    await written;
  }

  async #ack(timeoutMs: number): Promise<void> {
    const deadline = this.#clock.now() + timeoutMs;
    for (;;) {
      const b = await this.#byte(Math.max(1, deadline - this.#clock.now()));
      if (b === ACK) return;
      if (b === BUSY) continue;
      if (b === NACK) {
        await this.#clock.sleep(this.timeouts.nackSettleMs);
        const extra = this.#stream.readAvailable();
        throw new NackError(this.#op, this.transcript, 1 + extra.filter((x) => x === NACK).length);
      }
      throw new UnexpectedReplyError(this.#op, this.transcript, b);
    }
  }

  async #replyPacket(): Promise<Uint8Array> {
    const size = await this.#read(2, this.timeouts.byteMs);
    return this.#read((size[0]! << 8) | size[1]!, this.timeouts.byteMs);
  }

  /** Lets stray bytes (a second ACK, a second NACK) arrive and drops them. */
  async #settle(): Promise<void> {
    await this.#clock.sleep(this.timeouts.nackSettleMs);
    const stray = this.#stream.readAvailable();
    if (stray.length > 0) this.transcript.note(`dropped ${stray.length} stray byte(s) after ${this.#op}`);
  }

  async #byte(timeoutMs: number): Promise<number> {
    return (await this.#read(1, timeoutMs))[0]!;
  }

  async #read(n: number, timeoutMs: number): Promise<Uint8Array> {
    try {
      return await this.#stream.read(n, { timeoutMs });
    } catch (e) {
      throw this.#wrap(e, timeoutMs);
    }
  }

  async #write(bytes: Uint8Array): Promise<void> {
    try {
      await this.#stream.write(bytes);
    } catch (e) {
      throw this.#wrap(e, 0);
    }
  }

  #wrap(e: unknown, timeoutMs: number): unknown {
    if (e instanceof ReadTimeoutError)
      return new UsartTimeoutError(this.#op, this.transcript, timeoutMs, e.partial, e);
    if (e instanceof StreamClosedError) return new LinkClosedError(this.#op, this.transcript, e);
    return e;
  }

  /** One operation as reports show it (a step holding the commands it sends). */
  async #step<T>(title: string, body: () => Promise<T>): Promise<T> {
    this.#stepDepth++;
    try {
      return await operation({ kind: "usart", transcript: this.transcript }, title, body);
    } finally {
      this.#stepDepth--;
    }
  }

  /** Names the operation for errors and the transcript; codec errors get the transcript too. */
  async #run<T>(op: string, work: () => Promise<T>): Promise<T> {
    // A command on its own is a report step; inside a composite operation only the composite is.
    if (this.#stepDepth === 0) return this.#step(op, () => this.#run(op, work));
    const outer = this.#op;
    this.#op = op;
    this.transcript.note(op);
    try {
      return await work();
    } catch (e) {
      if (e instanceof UsartError || !(e instanceof UsartCodecError)) throw e;
      throw new UsartError(e.message, op, this.transcript, { cause: e });
    } finally {
      this.#op = outer;
    }
  }
}

/** A Write Memory command's frames, built before the command goes out. */
interface WriteBlock {
  address: number;
  length: number;
  op: string;
  addressFrame: Uint8Array;
  dataFrame: Uint8Array;
}

/** @throws {UsartCodecError} for an unaligned address or a block outside 1..256 bytes. */
function writeBlock(address: number, data: Uint8Array): WriteBlock {
  if (address % 4 !== 0) throw new UsartCodecError("address", `${hex(address)} is not 4-byte aligned`);
  if (data.length < 1 || data.length > MAX_BLOCK)
    throw new UsartCodecError("data", `expected 1..${MAX_BLOCK} bytes, got ${data.length}`);
  let padded = data;
  if (data.length % 4 !== 0) {
    padded = new Uint8Array(Math.ceil(data.length / 4) * 4).fill(0xff);
    padded.set(data);
  }
  return {
    address,
    length: data.length,
    op: `Write Memory ${hex(address)}+${data.length}`,
    addressFrame: u32Frame(address),
    dataFrame: encodeWriteData(padded),
  };
}

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, "0")}`;
}

function checkRange(address: number, length: number): void {
  if (!Number.isInteger(address) || address < 0 || address > 0xffff_ffff)
    throw new UsartCodecError("address", `expected a 32-bit address, got ${address}`);
  if (!Number.isInteger(length) || length < 1 || address + length > 0x1_0000_0000)
    throw new UsartCodecError("length", `expected 1.. bytes within the 4 GB space, got ${length}`);
}
