/**
 * The USART personality of the emulated STM32 ROM bootloader (AN3155), on the shared chip
 * model: it answers while the device is in its bootloader, waits for the 0x7F autobaud
 * byte after every reset, and follows the document to the byte: ACK/NACK rules, RDP
 * refusals, resets after protection and option-byte commands (the host must sync again),
 * the WB55's silent Extended Erase 0xFFFF, Go into the application.
 *
 * Event-driven: bytes from the line feed a ByteSource; one async command loop per
 * bootloader session takes them. A reset or power loss ends the session (its pending
 * take rejects) and the next boot into the ROM starts a new one.
 */
import {
  ACK,
  Command,
  CRC_DEFAULT_INIT,
  CRC_DEFAULT_POLY,
  checksumOk,
  commandName,
  decodeCountFrame,
  decodeErase,
  decodeExtendedErase,
  decodeSpecialOpcode,
  decodeSpecialPacket,
  decodeWriteData,
  decodeWriteProtect,
  ExtendedEraseSpecial,
  encodeCrcReply,
  encodeGetReply,
  encodeIdReply,
  encodeReplyPacket,
  encodeVersionReply,
  extendedEraseHead,
  isCommandFrame,
  MAX_EXTENDED_SPECIAL_DATA,
  NACK,
  readU32be,
  SYNC,
  specialPacketSize,
  stm32Crc,
  type UsartCodecError,
} from "../../../protocol/stm32-usart/index.js";
import type { Fault } from "../../../sim/faults.js";
import { PowerLostError } from "../../../sim/power.js";
import { Random } from "../../../sim/random.js";
import { MisbehavingWriter, Misbehaviour, misbehaveOf } from "../../misbehave.js";
import type { Stm32Device } from "../device.js";
import { OB } from "../option-bytes.js";
import { ByteSource, SessionEnded } from "./byte-source.js";
import { BITS_PER_BYTE, lineByteMs } from "./line-time.js";
import type { UsartQuirks } from "./quirks.js";

/** What the bootloader needs of a serial line: any EventedByteStream will do. */
export interface UsartLine {
  write(bytes: Uint8Array): Promise<void>;
  onData(listener: (bytes: Uint8Array) => void): () => void;
  /**
   * The baud rate the host set on the line now (a pty's termios), read at each 0x7F as the
   * ROM's autobaud measures it; undefined when it cannot be read.
   */
  baudRate?(): Promise<number | undefined>;
}

/** Special 0x50 / Extended Special 0x51 handler (the FUS issue plugs its commands in here). */
export interface SpecialHandler {
  /**
   * Whether an opcode is mapped on that command: the opcode packet is ACKed only then, an
   * unmapped one is NACKed right there (AN5185 §7.1.1/7.1.2). Without it every opcode is ACKed.
   */
  supports?(command: "special" | "extendedSpecial", opcode: number): boolean;
  special?(
    opcode: number,
    data: Uint8Array,
  ):
    | { data: Uint8Array; status: Uint8Array }
    | undefined
    | Promise<{ data: Uint8Array; status: Uint8Array } | undefined>;
  extendedSpecial?(
    opcode: number,
    data: Uint8Array,
    data2: Uint8Array,
  ): Uint8Array | undefined | Promise<Uint8Array | undefined>;
}

/** Base command list of V3.x parts with Extended Erase (fact sheet §4.2, WB55 observed). */
const BASE_COMMANDS = [
  Command.Get,
  Command.GetVersion,
  Command.GetId,
  Command.ReadMemory,
  Command.Go,
  Command.WriteMemory,
  Command.ExtendedErase,
  Command.WriteProtect,
  Command.WriteUnprotect,
  Command.ReadoutProtect,
  Command.ReadoutUnprotect,
];

/** Refused while readout protection is active (AN3155: NACK instead of the first ACK). */
const RDP_REFUSED = new Set<number>([
  Command.ReadMemory,
  Command.Go,
  Command.WriteMemory,
  Command.Erase,
  Command.ExtendedErase,
  Command.WriteProtect,
  Command.WriteUnprotect,
  Command.GetChecksum,
]);

type State = "autobaud" | "synced" | "deaf" | "hung";

export class Stm32UsartRom {
  #line: UsartLine | undefined;
  #unsubscribe: (() => void) | undefined;
  #session: ByteSource | undefined;
  #state: State = "autobaud";
  #special: SpecialHandler | undefined;
  /** Pending line faults: bytes from the host still to drop / to corrupt. */
  #drop = 0;
  #corrupt = 0;
  readonly #random: Random;
  readonly #eventCounts = new Map<string, number>();
  /** The `misbehave` personality of the replies, when the options ask for it. */
  readonly #misbehave: MisbehavingWriter | undefined;

  /** Line time per byte (line-time.ts) at the line's baud; bytes received since the last reply. */
  #byteMs: number;
  #received = 0;
  /** Whether line time is charged at all (pace); the baud the host opened the line at, when known. */
  readonly #charged: boolean;
  #lineBaud: number | undefined;

  constructor(
    readonly device: Stm32Device,
    readonly quirks: UsartQuirks,
  ) {
    this.#random = new Random(device.seed).fork("usart-line");
    const misbehave = misbehaveOf(device.options);
    this.#misbehave = misbehave && this.#misbehaving(new Misbehaviour(misbehave, "usart"));
    this.#byteMs = lineByteMs(device.options, device.clock);
    this.#charged = this.#byteMs > 0;
    device.onModeChange((mode) => {
      this.#endSession(`mode ${mode.kind}`);
      if (mode.kind === "bootloader") this.#startSession();
    });
    if (device.mode.kind === "bootloader") this.#startSession();
  }

  get state(): State | "off" {
    return this.#session ? this.#state : "off";
  }

  /** Codes answered by Get, in order. */
  get commands(): number[] {
    return this.#supported().filter(
      (c) => this.quirks.getListsSpecial || (c !== Command.Special && c !== Command.ExtendedSpecial),
    );
  }

  /** Codes the bootloader answers: those Get lists, and 0x50/0x51 where a part leaves them out of Get. */
  #supported(): number[] {
    const list: number[] = this.quirks.legacyErase
      ? BASE_COMMANDS.map((c) => (c === Command.ExtendedErase ? Command.Erase : c))
      : [...BASE_COMMANDS];
    if (this.quirks.getChecksum) list.push(Command.GetChecksum);
    if (this.#special?.special) list.push(Command.Special);
    if (this.#special?.extendedSpecial) list.push(Command.ExtendedSpecial);
    return list;
  }

  /** How often a protocol event ("usart.command", "usart.write") fired: arm a fault at "the k-th from now". */
  eventCount(name: string): number {
    return this.#eventCounts.get(name) ?? 0;
  }

  setSpecialHandler(handler: SpecialHandler | undefined): void {
    this.#special = handler;
  }

  /** The baud rate line time is charged at: the host's when its line tells it, else `usartBaud`. */
  get lineBaud(): number | undefined {
    return this.#charged ? Math.round((BITS_PER_BYTE * 1000) / this.#byteMs) : undefined;
  }

  /**
   * Connect the USART pins to `line` (one line at a time; the previous one is let go), which
   * the host opened at `baudRate` (the rate the autobaud finds; `usartBaud` when not given).
   */
  attach(line: UsartLine, baudRate?: number): void {
    this.#unsubscribe?.();
    this.#line = line;
    this.#setLineBaud(baudRate);
    this.#unsubscribe = line.onData((bytes) => this.#receive(bytes));
  }

  #setLineBaud(baud: number | undefined): void {
    this.#lineBaud = baud;
    this.#byteMs = lineByteMs(this.device.options, this.device.clock, baud);
  }

  detach(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#line = undefined;
  }

  // ---- line ----------------------------------------------------------------------------

  #receive(bytes: Uint8Array): void {
    if (!this.#session) return; // no bootloader running: the pins are not listened to
    this.#received += bytes.length;
    let data = bytes;
    if (this.#drop > 0 || this.#corrupt > 0) {
      const out: number[] = [];
      for (const b of bytes) {
        if (this.#drop > 0) {
          this.#drop--;
          this.device.log("fault", `usart: dropped byte 0x${hex2(b)}`);
        } else if (this.#corrupt > 0) {
          this.#corrupt--;
          const bad = b ^ (1 + this.#random.below(255));
          this.device.log("fault", `usart: byte 0x${hex2(b)} arrived as 0x${hex2(bad)}`);
          out.push(bad);
        } else out.push(b);
      }
      data = Uint8Array.from(out);
    }
    this.#session.push(data);
  }

  async #send(...bytes: number[]): Promise<void> {
    await this.#sendBytes(Uint8Array.from(bytes));
  }

  async #sendBytes(bytes: Uint8Array, opts: { untimed?: boolean; sent?: () => void } = {}): Promise<void> {
    // The host's bytes since the last reply and this reply cross the line before the host has it.
    const lineMs = opts.untimed ? 0 : (this.#received + bytes.length) * this.#byteMs;
    this.#received = 0;
    if (lineMs > 0) {
      const session = this.#session;
      await this.device.clock.sleep(lineMs);
      // A reset or power loss on the way ended the session: its reply never leaves.
      if (session !== this.#session) return;
    }
    if (this.#misbehave) {
      const done = this.#misbehave.write(bytes);
      opts.sent?.();
      return done;
    }
    await this.#lineWrite(bytes, opts.sent);
  }

  async #lineWrite(bytes: Uint8Array, sent?: () => void): Promise<void> {
    // A host that went away is not the device's problem: it keeps running.
    const written = this.#line?.write(bytes).catch(() => {});
    sent?.();
    await written;
  }

  #misbehaving(engine: Misbehaviour): MisbehavingWriter {
    const device = this.device;
    return new MisbehavingWriter(engine, {
      write: (bytes) => this.#lineWrite(bytes),
      sleep: (ms) => device.clock.sleep(ms),
      reset: () => void device.reset("misbehave: reset mid-reply"),
      // The wrong answer of this protocol: NACK where ACK was due, ACK for NACK.
      status: (bytes) =>
        bytes[0] === ACK ? Uint8Array.of(NACK) : bytes[0] === NACK ? Uint8Array.of(ACK) : undefined,
      log: (detail) => device.log("misbehave", detail),
    });
  }

  // ---- sessions ------------------------------------------------------------------------

  #startSession(): void {
    const session = new ByteSource();
    this.#session = session;
    this.#received = 0;
    this.#state = "autobaud";
    void this.#run(session).catch((e) => {
      if (e instanceof SessionEnded || e instanceof PowerLostError) return;
      this.device.log("usart", `bootloader loop failed: ${(e as Error).message}`);
    });
  }

  #endSession(reason: string): void {
    this.#session?.end(reason);
    this.#session = undefined;
  }

  async #run(session: ByteSource): Promise<void> {
    const first = await session.take(1);
    if (first[0] !== SYNC) {
      // The autobaud measured a frame that was not 0x7F: the baud rate is wrong until reset.
      this.#state = "deaf";
      this.device.log("usart", `first byte 0x${hex2(first[0]!)} is not 0x7F: wrong baud rate until reset`);
      return;
    }
    // The autobaud: a line that can say what the host set (a pty) is asked now.
    const read = this.#charged ? this.#line?.baudRate : undefined;
    if (read) {
      const baud = await read.call(this.#line).catch(() => undefined);
      if (this.#session !== session) return;
      if (baud !== undefined && Number.isInteger(baud) && baud > 0) this.#setLineBaud(baud);
    }
    this.#state = "synced";
    this.device.log("usart", this.#lineBaud ? `synced (0x7F at ${this.#lineBaud} baud)` : "synced (0x7F)");
    await (this.quirks.doubleAck ? this.#send(ACK, ACK) : this.#send(ACK));
    while (this.#session === session) {
      const frame = await session.take(2);
      if (!isCommandFrame(frame)) {
        await this.#nack(`0x${hex2(frame[0]!)} 0x${hex2(frame[1]!)} is not a command and its complement`);
        continue;
      }
      const code = frame[0]!;
      this.#applyFaults(this.#event("usart.command"));
      if (this.#session !== session) return;
      await this.#command(session, code);
    }
  }

  async #command(s: ByteSource, code: number): Promise<void> {
    const name = commandName(code);
    if (!this.#supported().includes(code)) return this.#nack(`${name} is not supported`);
    if (this.device.chip.rdpLevel >= 1 && RDP_REFUSED.has(code)) {
      this.device.log("usart", `NACK ${name}: readout protection level ${this.device.chip.rdpLevel}`);
      return this.quirks.rdpDoubleNack ? this.#send(NACK, NACK) : this.#send(NACK);
    }
    await this.#send(ACK);
    switch (code) {
      case Command.Get:
        return this.#sendBytes(
          framed(
            encodeGetReply({ version: this.device.profile.usartProtocolVersion, commands: this.commands }),
          ),
        );
      case Command.GetVersion:
        return this.#sendBytes(
          framed(
            encodeVersionReply({ version: this.device.profile.usartProtocolVersion, option1: 0, option2: 0 }),
          ),
        );
      case Command.GetId:
        return this.#sendBytes(framed(encodeIdReply(this.device.profile.pid)));
      case Command.ReadMemory:
        return this.#readMemory(s);
      case Command.Go:
        return this.#go(s);
      case Command.WriteMemory:
        return this.#writeMemory(s);
      case Command.Erase:
        return this.#erase(s);
      case Command.ExtendedErase:
        return this.#extendedErase(s);
      case Command.WriteProtect:
        return this.#writeProtect(s);
      case Command.WriteUnprotect:
        return this.#protection("Write Unprotect", () => this.#unprotectAll());
      case Command.ReadoutProtect:
        return this.#protection("Readout Protect", () => this.device.chip.readoutProtect());
      case Command.ReadoutUnprotect:
        return this.#protection("Readout Unprotect", () => this.device.chip.readoutUnprotect());
      case Command.GetChecksum:
        return this.#getChecksum(s);
      case Command.Special:
        return this.#specialCommand(s);
      case Command.ExtendedSpecial:
        return this.#extendedSpecialCommand(s);
    }
  }

  // ---- commands ------------------------------------------------------------------------

  async #readMemory(s: ByteSource): Promise<void> {
    const address = await this.#address(s, (a) => this.device.chip.regionOf(a) !== undefined);
    if (address === undefined) return;
    const count = decodeCountFrame(await s.take(2));
    if (count === undefined) return this.#nack("Read Memory count: complement does not match");
    const result = this.device.chip.read(address, count);
    if (!result.ok) return this.#nack(`Read Memory: ${result.detail}`);
    await this.#send(ACK);
    await this.#sendBytes(result.value);
  }

  async #go(s: ByteSource): Promise<void> {
    // V2.1+: Go NACKs option-byte and system-memory addresses.
    const address = await this.#address(s, (a) =>
      ["flash", "sram"].includes(this.device.chip.regionOf(a) ?? ""),
    );
    if (address === undefined) return;
    // The jump follows the address ACK at once (the host returns on that one): this last ACK's
    // line time runs while the core already starts the application.
    await this.#sendBytes(Uint8Array.of(ACK), {
      untimed: true,
      sent: () => {
        this.device.log("usart", `Go 0x${address.toString(16)}`);
        this.device.go(address);
      },
    });
  }

  async #writeMemory(s: ByteSource): Promise<void> {
    const chip = this.device.chip;
    const address = await this.#address(s, (a) => {
      const region = chip.regionOf(a);
      // Option bytes are written from their base only (AN3155 Write Memory).
      const ram = this.device.profile.hostRam;
      if (region === "sram") return a >= ram.base && a < ram.base + ram.size; // V2.2: the bootloader's own RAM is denied
      return region === "option-bytes"
        ? a === this.device.profile.optionBytes.base
        : region !== undefined && region !== "system";
    });
    if (address === undefined) return;
    // Protocol event "usart.write" (k-th data block): a line fault armed here hits the block itself.
    const faults = this.#event("usart.write");
    if (this.#session !== s) return;
    this.#applyFaults(faults);
    const n = await s.take(1);
    const rest = await s.take(n[0]! + 2);
    let data: Uint8Array;
    try {
      data = decodeWriteData(Uint8Array.of(...n, ...rest));
    } catch (e) {
      return this.#nack(`Write Memory ${(e as UsartCodecError).message}`);
    }
    const outcome = await this.device.powered(async (epoch) => {
      const result = chip.write(address, data);
      if (result.ok) await this.device.busy(epoch, result.busyMs);
      return result;
    });
    if (!outcome.ok) {
      // AN3155: no error is returned for write-protected sectors: the data is dropped.
      if (outcome.refusal === "protected") {
        this.device.log("usart", `Write Memory 0x${address.toString(16)} dropped: ${outcome.detail}`);
        return this.#send(ACK);
      }
      return this.#nack(`Write Memory: ${outcome.detail}`);
    }
    await this.#send(ACK);
    if (outcome.value.optionBytesChanged) await this.device.systemReset("option bytes written over USART");
  }

  /** Erase 0x43: one-byte page numbers, or 0xFF 0x00 for the global erase. */
  async #erase(s: ByteSource): Promise<void> {
    const n = await s.take(1);
    const rest = await s.take(n[0] === 0xff ? 1 : n[0]! + 2);
    let request: ReturnType<typeof decodeErase>;
    try {
      request = decodeErase(Uint8Array.of(...n, ...rest));
    } catch (e) {
      return this.#nack(`Erase ${(e as UsartCodecError).message}`);
    }
    if (request.kind === "none") {
      // AN3155: 0xFF followed by anything but 0x00 performs no mass erase, yet is ACKed.
      this.device.log("usart", `Erase 0xFF 0x${hex2(rest[0]!)}: no global erase, ACK`);
      return this.#send(ACK);
    }
    if (request.kind === "global") return this.#massErase(s, "Erase 0xFF 0x00");
    return this.#erasePages(request.pages, "Erase");
  }

  async #extendedErase(s: ByteSource): Promise<void> {
    const head = extendedEraseHead(await s.take(2));
    const tail = await s.take("special" in head ? 1 : 2 * head.pages + 1);
    let request: ReturnType<typeof decodeExtendedErase>;
    try {
      request = decodeExtendedErase(Uint8Array.of(...headBytes(head), ...tail));
    } catch (e) {
      return this.#nack(`Extended Erase ${(e as UsartCodecError).message}`);
    }
    if (request.kind === "special") {
      if (request.code === ExtendedEraseSpecial.Mass) return this.#massErase(s, "Extended Erase 0xFFFF");
      return this.#nack(`Extended Erase 0x${request.code.toString(16)}: single-bank part`);
    }
    return this.#erasePages(request.pages, "Extended Erase");
  }

  async #massErase(s: ByteSource, what: string): Promise<void> {
    if (!this.device.profile.massErase) {
      // WB55 (fact sheet §3): the bootloader never answers a mass erase; only a reset helps.
      this.#state = "hung";
      this.device.log("usart", `${what}: no mass erase on this part, bootloader hangs`);
      for (;;) await s.take(1);
    }
    const outcome = await this.device.powered(async (epoch) => {
      const r = this.device.chip.massErase();
      if (r.ok) await this.device.busy(epoch, r.busyMs);
      return r;
    });
    return outcome.ok ? this.#send(ACK) : this.#nack(`mass erase: ${outcome.detail}`);
  }

  async #erasePages(pages: number[], what: string): Promise<void> {
    const outcome = await this.device.powered(async (epoch) => {
      for (const page of pages) {
        const r = this.device.chip.erasePage(page);
        if (!r.ok) return r;
        await this.device.busy(epoch, r.busyMs);
      }
      return undefined;
    });
    if (outcome) return this.#nack(`${what}: ${outcome.detail}`);
    this.device.log("usart", `erased ${pages.length} page(s)`);
    await this.#send(ACK);
  }

  async #writeProtect(s: ByteSource): Promise<void> {
    const n = await s.take(1);
    const rest = await s.take(n[0]! + 2);
    let sectors: number[];
    try {
      sectors = decodeWriteProtect(Uint8Array.of(...n, ...rest));
    } catch (e) {
      return this.#nack(`Write Protect ${(e as UsartCodecError).message}`);
    }
    // AN3155: the list is not validated. L4/WB have two WRP areas: the first two runs of
    // consecutive pages go there, anything further widens the second area.
    const runs = toRuns(sectors);
    const ob = this.device.chip.optionBytes;
    const [a, b] = [runs[0]!, runs.length > 1 ? [runs[1]![0], runs.at(-1)![1]] : undefined];
    ob.setWord(OB.WRP1AR, (a[0] & 0xff) | ((a[1] & 0xff) << 16));
    if (b) ob.setWord(OB.WRP1BR, (b[0]! & 0xff) | ((b[1]! & 0xff) << 16));
    await this.#send(ACK);
    await this.device.systemReset("Write Protect over USART");
  }

  #unprotectAll(): { ok: true } {
    const ob = this.device.chip.optionBytes;
    ob.setWord(OB.WRP1AR, 0x0000_00ff); // start > end: area disabled
    ob.setWord(OB.WRP1BR, 0x0000_00ff);
    return { ok: true };
  }

  /** Write Unprotect / Readout (Un)Protect: work, second ACK (NACK on failure), then a system reset. */
  async #protection(
    what: string,
    work: () => { ok: boolean; busyMs?: number; detail?: string },
  ): Promise<void> {
    const outcome = await this.device.powered(async (epoch) => {
      const r = work();
      if (r.ok && r.busyMs) await this.device.busy(epoch, r.busyMs);
      return r;
    });
    if (outcome.ok) await this.#send(ACK);
    else await this.#nack(`${what}: ${outcome.detail ?? "failed"}`);
    await this.device.systemReset(`${what} over USART`);
  }

  /**
   * Both forms (fact sheet §4.4): after the length is ACKed, AN3155 Rev 20 hosts send a
   * polynomial at once; stm32flash sends nothing and waits for ACK and the CRC. Quiet time
   * tells them apart ({@link #checksumForm}).
   */
  async #getChecksum(s: ByteSource): Promise<void> {
    const address = await this.#address(s, (a) => this.device.chip.regionOf(a) !== undefined);
    if (address === undefined) return;
    const length = await this.#u32(s, "length");
    if (length === undefined) return;
    await this.#send(ACK);
    const form = await this.#checksumForm(s, address, length);
    if (form === undefined) return;
    let poly = CRC_DEFAULT_POLY;
    let init = CRC_DEFAULT_INIT;
    if (form !== "stm32flash") {
      const p = await this.#u32(s, "polynomial");
      if (p === undefined) return;
      if (form === "an3155") await this.#send(ACK); // "an3155-late" took stm32flash's ACK for this one
      const i = await this.#u32(s, "init");
      if (i === undefined) return;
      await this.#send(ACK);
      [poly, init] = [p, i];
    }
    const bytes = form === "stm32flash" ? length : length * 4;
    const words = this.#checksummed(address, bytes);
    if (!words)
      return this.#nack(`Get Checksum ${bytes} bytes at 0x${address.toString(16)}: not readable whole words`);
    this.device.log(
      "usart",
      `Get Checksum (${form === "stm32flash" ? "stm32flash" : "AN3155"} form) 0x${address.toString(16)}+${bytes}` +
        (form === "an3155-late" ? ": polynomial after the ACK of stm32flash's form" : ""),
    );
    if (form !== "stm32flash") await this.#send(ACK); // stm32flash's form had it before the wait
    await this.#sendBytes(encodeCrcReply(stm32Crc(words, poly, init)));
  }

  /**
   * Which form the host speaks, from what it sends after the length ACK. A polynomial within
   * one window: AN3155. Else the ACK stm32flash waits for goes out (if `length` bytes can be
   * summed; NACK and undefined otherwise), and the CRC waits a second window: an AN3155 host
   * that was only late (a loaded machine) takes that ACK for its polynomial's and sends it
   * now ("an3155-late"); silence again is stm32flash. Each window stays within the 500 ms
   * stm32flash gives each read, and the bytes on the wire are each form's own.
   */
  async #checksumForm(
    s: ByteSource,
    address: number,
    length: number,
  ): Promise<"an3155" | "an3155-late" | "stm32flash" | undefined> {
    const window = this.quirks.checksumFormWindowMs;
    if (await s.arrivesWithin(this.device.clock, window)) return "an3155";
    if (!this.#checksummed(address, length)) {
      await this.#nack(`Get Checksum ${length} bytes at 0x${address.toString(16)}: not readable whole words`);
      return undefined;
    }
    await this.#send(ACK);
    return (await s.arrivesWithin(this.device.clock, window)) ? "an3155-late" : "stm32flash";
  }

  /** The `bytes` at `address` Get Checksum sums: whole words, all readable; else undefined. */
  #checksummed(address: number, bytes: number): Uint8Array | undefined {
    if (bytes % 4 !== 0 || bytes <= 0) return undefined;
    const result = this.device.chip.read(address, bytes);
    return result.ok ? result.value : undefined;
  }

  async #specialCommand(s: ByteSource): Promise<void> {
    const opcode = await this.#opcode(s, "special");
    if (opcode === undefined) return;
    const data = await this.#packet(s, 128);
    if (data === undefined) return;
    const reply = await this.#special?.special?.(opcode, data);
    if (this.#session !== s) return; // the chip reset under the command (FUS): nothing more is sent
    if (!reply) return this.#nack(`Special 0x${opcode.toString(16)} refused`);
    await this.#send(ACK);
    await this.#sendBytes(
      Uint8Array.of(...encodeReplyPacket(reply.data), ...encodeReplyPacket(reply.status), ACK),
    );
  }

  async #extendedSpecialCommand(s: ByteSource): Promise<void> {
    const opcode = await this.#opcode(s, "extendedSpecial");
    if (opcode === undefined) return;
    const data = await this.#packet(s, 128);
    if (data === undefined) return;
    await this.#send(ACK);
    const data2 = await this.#packet(s, MAX_EXTENDED_SPECIAL_DATA);
    if (data2 === undefined) return;
    const status = await this.#special?.extendedSpecial?.(opcode, data, data2);
    if (this.#session !== s) return; // the chip reset under the command (FUS): nothing more is sent
    if (!status) return this.#nack(`Extended Special 0x${opcode.toString(16)} refused`);
    await this.#send(ACK);
    await this.#sendBytes(Uint8Array.of(...encodeReplyPacket(status), ACK));
  }

  // ---- fields --------------------------------------------------------------------------

  /** 4-byte address + XOR; ACKed when `valid`, otherwise NACKed (V3.1: unsupported addresses). */
  async #address(s: ByteSource, valid: (address: number) => boolean): Promise<number | undefined> {
    const address = await this.#u32(s, "address");
    if (address === undefined) return undefined;
    if (!valid(address)) {
      await this.#nack(`address 0x${address.toString(16)} not supported here`);
      return undefined;
    }
    await this.#send(ACK);
    return address;
  }

  /** 4-byte MSB-first value + XOR; NACKs a bad checksum. Does not ACK. */
  async #u32(s: ByteSource, field: string): Promise<number | undefined> {
    const frame = await s.take(5);
    if (!checksumOk(frame)) {
      await this.#nack(`${field} checksum 0x${hex2(frame[4]!)} does not match`);
      return undefined;
    }
    return readU32be(frame);
  }

  async #opcode(s: ByteSource, command: "special" | "extendedSpecial"): Promise<number | undefined> {
    let op: number;
    try {
      op = decodeSpecialOpcode(await s.take(3));
    } catch (e) {
      await this.#nack(`Special ${(e as UsartCodecError).message}`);
      return undefined;
    }
    if (this.#special?.supports?.(command, op) === false) {
      await this.#nack(
        `${command === "special" ? "Special" : "Extended Special"} opcode 0x${op.toString(16)} not mapped`,
      );
      return undefined;
    }
    await this.#send(ACK);
    return op;
  }

  /** Size (2 bytes) + data + XOR; NACKs an oversize or bad packet, leaves ACKing to the caller. */
  async #packet(s: ByteSource, max: number): Promise<Uint8Array | undefined> {
    const head = await s.take(2);
    const size = specialPacketSize(head);
    if (size > max) {
      await this.#nack(`Special packet size ${size} > ${max}`);
      return undefined;
    }
    try {
      return decodeSpecialPacket(Uint8Array.of(...head, ...(await s.take(size + 1))), max);
    } catch (e) {
      await this.#nack(`Special ${(e as UsartCodecError).message}`);
      return undefined;
    }
  }

  async #nack(why: string): Promise<void> {
    this.device.log("usart", `NACK: ${why}`);
    await this.#send(NACK);
  }

  #event(name: string): Fault[] {
    this.#eventCounts.set(name, this.eventCount(name) + 1);
    return this.device.event(name);
  }

  #applyFaults(faults: Fault[]): void {
    for (const f of faults) {
      if (f.what.do === "serial-drop") this.#drop += f.what.bytes ?? 1;
      else if (f.what.do === "serial-corrupt") this.#corrupt += f.what.bytes ?? 1;
    }
  }
}

function framed(body: Uint8Array): Uint8Array {
  return Uint8Array.of(...body, ACK);
}

function headBytes(head: { special: number } | { pages: number }): number[] {
  const v = "special" in head ? head.special : head.pages - 1;
  return [v >> 8, v & 0xff];
}

function toRuns(pages: number[]): Array<[number, number]> {
  const sorted = [...new Set(pages)].sort((x, y) => x - y);
  const runs: Array<[number, number]> = [];
  for (const p of sorted) {
    const last = runs.at(-1);
    if (last && p === last[1] + 1) last[1] = p;
    else runs.push([p, p]);
  }
  return runs;
}

function hex2(b: number): string {
  return b.toString(16).padStart(2, "0");
}
