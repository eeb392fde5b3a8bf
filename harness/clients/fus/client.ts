/**
 * FusClient: drives STM32WB FUS through the ROM bootloader (USB DFU or USART) the way
 * AN5185 prescribes and real hosts do (fact sheet §5.4, §5.9): GET_STATE polling at a fixed
 * cadence (qFlipper 1 s), a budget per offline period (qFlipper 30 s) and per operation, the
 * resets FUS performs tolerated (no answer → wait for the bootloader to come back), and a
 * state trace of everything seen. Every wait goes through the link's Clock.
 */
import {
  DEVICE_INFO_SIZE,
  type DeviceInfoTable,
  decodeDeviceInfo,
  decodeFusStatus,
  decodeMemorySize,
  encodeAuthKey,
  encodeUserKey,
  FOOTER_SIZE,
  type FusImageLayout,
  FusReplyError,
  FusState,
  type FusStatus,
  type ImageFooter,
  isNotRunning,
  isOngoing,
  FusBootloaderOpcode as Op,
  parseImageFile,
  parseImageFooter,
  releaseNotesTop,
  SRAM2A_BASE,
  type UserKeyKind,
} from "../../protocol/fus/index.js";
import { HilError, UsageError } from "../../seams/errors.js";
import type { Transcript } from "../../transport/transcript.js";
import { type ClientOptions, EventHub, type HostClient } from "../contract.js";
import { ClientError } from "../errors.js";
import { type OperationHandle, operation } from "../operation.js";
import { FusClientError, type FusErrorKind } from "./errors.js";
import { commandPhases, installPhases, type PhaseNames } from "./install-phases.js";
import type { FusLink } from "./links.js";
import { type FusTraceEntry, followsPattern, traceLabel } from "./trace.js";

export interface FusClientOptions {
  /** GET_STATE cadence while an operation runs (qFlipper: 1000 ms). */
  pollIntervalMs?: number;
  /** Longest the device may stay silent / off the bus in one stretch (qFlipper: 30 000 ms). */
  offlineTimeoutMs?: number;
  /** Whole-operation budget (install of a big stack: tens of seconds; qFlipper's updater: 10 min). */
  operationTimeoutMs?: number;
}

/** Waits in ms of the link's clock (the contract's `timeouts`). */
export interface FusTimeouts {
  /** Longest the device may stay silent / off the bus in one stretch. */
  offlineMs: number;
  /** Whole-operation budget. */
  operationMs: number;
}

/**
 * {@link FusClient.open}'s options: the client contract, where `clock` must be the link's
 * (polls and link reads on two clocks would disagree on virtual time) and the transcript is
 * the link's own.
 */
export interface FusOpenOptions extends Omit<ClientOptions<FusTimeouts>, "transcript"> {
  pollIntervalMs?: number;
}

/** What a FusClient reports as it works. */
export interface FusEvents {
  /** Every trace entry as it is recorded: where fault plans and lab power backends hook in. */
  trace: FusTraceEntry;
}

const DEFAULTS: Required<FusClientOptions> = {
  pollIntervalMs: 1000,
  offlineTimeoutMs: 30_000,
  operationTimeoutMs: 300_000,
};

const FLASH = 0x0800_0000;
const OB_SFSA = 0x70;
const OB_SBRV = 0x78;

export interface DeviceInfo extends DeviceInfoTable {
  valid: boolean;
  stackInstalled: boolean;
}

export interface SecureBoundaries {
  /** First secure 4 KB page. */
  sfsa: number;
  sbrv: number;
}

/**
 * Consent for an irreversible operation (AN5185 §4.2: "no way to undo"): either the rig's
 * interlock guard (harness/lab/interlock.ts `irreversibleGuard(board)`, which throws when
 * refused), or both explicit flags true.
 */
export type IrreversibleConsent = ExplicitConsent | { guard: (operation: string) => void };

export interface ExplicitConsent {
  /** The rig marks this board sacrificial. */
  boardIsSacrificial: boolean;
  /** The run asked for irreversible operations explicitly. */
  allowIrreversible: boolean;
}

export class FusClient implements HostClient<FusEvents> {
  readonly trace: FusTraceEntry[] = [];
  readonly events = new EventHub<FusEvents>();
  readonly #opts: Required<FusClientOptions>;
  /** The device information table as last read (whether a stack is installed names install phases). */
  #info: DeviceInfo | undefined;
  /** Resets seen so far (a GET_STATE or command with no answer, a resync that found a fresh ROM). */
  #resetsSeen = 0;

  constructor(
    readonly link: FusLink,
    opts: FusClientOptions = {},
  ) {
    this.#opts = { ...DEFAULTS, ...opts };
  }

  /** The client contract's entry point: a FUS client over an open link. */
  static async open(link: FusLink, opts: FusOpenOptions): Promise<FusClient> {
    if (opts.clock !== link.clock)
      throw new UsageError("FusClient.open: opts.clock is not the link's clock", { source: "fus client" });
    const { timeouts, pollIntervalMs } = opts;
    return new FusClient(link, {
      ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }),
      ...(timeouts?.offlineMs === undefined ? {} : { offlineTimeoutMs: timeouts.offlineMs }),
      ...(timeouts?.operationMs === undefined ? {} : { operationTimeoutMs: timeouts.operationMs }),
    });
  }

  get clock() {
    return this.link.clock;
  }

  /** The link's transcript (DFU or USART transfers under the FUS commands). */
  get transcript(): Transcript {
    return this.link.source.transcript;
  }

  /** Ends the session: closes the link. */
  async close(): Promise<void> {
    await this.link.close();
  }

  /** Trace labels since `from` (an index into `trace`). */
  labels(from = 0): string[] {
    return this.trace.slice(from).map(traceLabel);
  }

  follows(pattern: readonly string[], from = 0): boolean {
    return followsPattern(this.labels(from), pattern);
  }

  /**
   * One FUS_GET_STATE. Beware AN5185 §1.2: a second one to a running stack reboots the chip
   * into FUS. undefined = no answer (the chip reset under it).
   */
  async getState(): Promise<FusStatus | undefined> {
    const s = await this.#typed("FUS_GET_STATE", () => this.link.getState());
    for (let n = this.link.takeResets?.() ?? 0; n > 0; n--)
      this.#record({ t: this.clock.now(), kind: "no-answer" });
    if (!s) {
      this.#record({ t: this.clock.now(), kind: "no-answer" });
      return undefined;
    }
    this.#record({ t: this.clock.now(), kind: "state", ...s });
    return decodeFusStatus(s.state, s.error);
  }

  /** Table 1: FUS running already, or two consecutive GET_STATE to the stack (the second reboots into FUS). */
  async startFus(): Promise<FusStatus> {
    return this.#op("start FUS", async () => {
      let s = await this.#answered("start FUS");
      if (!isNotRunning(s)) return s;
      const second = await this.getState();
      if (second && isNotRunning(second))
        throw this.#error(
          "state",
          "start FUS",
          "the second FUS_GET_STATE did not start FUS",
          second,
          this.trace,
        );
      await this.#reconnect("start FUS");
      s = await this.#answered("start FUS");
      if (isNotRunning(s))
        throw this.#error("state", "start FUS", "still the wireless stack after the reboot", s, this.trace);
      return s;
    });
  }

  /** Device information table in SRAM2a (pointer at 0x20030000, AN5185 §6.1.1, fact sheet §5.3). */
  async readDeviceInfo(): Promise<DeviceInfo> {
    return this.#op("read device information table", async () => {
      const ptr = le32(await this.link.readMemory(SRAM2A_BASE, 4), 0, "device information table pointer");
      if (ptr < SRAM2A_BASE || ptr > SRAM2A_BASE + 0x8000 - DEVICE_INFO_SIZE)
        throw this.#error(
          "state",
          "read device info",
          `table pointer 0x${ptr.toString(16)} is not in SRAM2a`,
        );
      const t = decodeDeviceInfo(await this.link.readMemory(ptr, DEVICE_INFO_SIZE));
      this.#info = { ...t, stackInstalled: t.wirelessStackVersion !== 0xffff_ffff };
      return this.#info;
    });
  }

  async readSecureBoundaries(): Promise<SecureBoundaries> {
    return this.#op("read secure boundaries (option bytes)", async () => {
      const ob = await this.link.readOptionBytes();
      return {
        sfsa: le32(ob, OB_SFSA, "option bytes SFSA") & 0xff,
        sbrv: le32(ob, OB_SBRV, "option bytes SBRV") & 0x3ffff,
      };
    });
  }

  /**
   * Where to stage an image (AN5185 §2.1.1): without a stack, where the release notes put it
   * on a 1 MB part (0x080F4000, 0x080F0000 for "FUSv2 only" stacks, 0x080F2000 for the FUS
   * 1.2.0 files, minus the file in 4 KB sectors) and never above SFSA; an upgrade below the
   * installed stack by the size rule; rounded down to a 4 KB sector as FUS requires (§2.2.2,
   * qFlipper does the same).
   */
  async stagingAddress(image: Uint8Array): Promise<number> {
    const kind = imageKind(image);
    const info = await this.readDeviceInfo();
    const { sfsa } = await this.readSecureBoundaries();
    const boundary = FLASH + sfsa * 4096;
    const size = image.length;
    let address: number;
    if (kind?.kind === "fus" && info.stackInstalled) {
      // A bigger FUS moves the stack lower by the growth (§3.2): stay clear of where it goes.
      const growth = Math.max(0, kind.sectors - decodeMemorySize(info.fusMemorySize).flashSectors);
      address = boundary - growth * 4096 - size;
    } else if (!info.stackInstalled || kind?.kind === "safeboot") {
      address = Math.min(boundary, kind ? releaseNotesTop(kind.footer) : boundary) - size;
    } else {
      const current = decodeMemorySize(info.wirelessStackMemorySize).flashSectors * 4096;
      address = size <= current ? boundary - size : boundary - (2 * size - current);
    }
    return address - (address % 4096);
  }

  /**
   * Install/upgrade a wireless stack or upgrade FUS (AN5185 §2.1.1, §3.1): stage the image,
   * FUS running, FUS_FW_UPGRADE (resent when the answer was lost to a reset, Table 3),
   * then poll until the stack runs (NOT_RUNNING) or FUS is idle (FUS upgrade without stack).
   * @throws {FusClientError} with the Table 11 error FUS reported, or on timeout.
   */
  async fwUpgrade(
    image: Uint8Array,
    opts: { address?: number; stage?: boolean; check?: boolean } = {},
  ): Promise<{ address: number; layout: FusImageLayout | undefined }> {
    return this.#op("FUS_FW_UPGRADE", async () => {
      let layout: FusImageLayout | undefined;
      try {
        layout = parseImageFile(image);
      } catch (e) {
        // check: false lets error-injection suites send malformed images to FUS on purpose.
        if (opts.check ?? true) throw this.#error("refused", "FW_UPGRADE", (e as Error).message);
      }
      this.#info = undefined;
      await this.startFus();
      const address = opts.address ?? (await this.stagingAddress(image));
      if (opts.stage ?? true)
        await this.#op(`stage ${image.length} bytes at 0x${address.toString(16)}`, () =>
          this.link.writeFlash(address, image),
        );
      const kind = imageKind(image);
      // Read by stagingAddress above, unless the caller gave the address.
      const info = this.#info as DeviceInfo | undefined;
      const phases = installPhases({
        kind: kind?.footer.kind,
        sectors: kind?.sectors,
        stackInstalled: info?.stackInstalled,
        movesStack:
          info && kind
            ? info.stackInstalled && kind.sectors > decodeMemorySize(info.fusMemorySize).flashSectors
            : undefined,
      });
      await this.#command("FW_UPGRADE", Op.FW_UPGRADE);
      const end = await this.#pollPhases(
        "FW_UPGRADE",
        (s) => isNotRunning(s) || s.state === FusState.IDLE,
        phases,
      );
      // FUS and Safeboot updates end with FUS idle; a stack install with the stack running.
      const fusSide = layout?.image.kind === "fus" || layout?.image.kind === "safeboot";
      if (!fusSide && !isNotRunning(end))
        throw this.#error(
          "fus",
          "FW_UPGRADE",
          "FUS went back to idle: the stack was not installed",
          end,
          this.trace,
        );
      return { address, layout };
    });
  }

  /** AN5185 §2.2.1: delete the stack; ends with FUS idle. IMG_NOT_FOUND when none is installed. */
  async fwDelete(): Promise<void> {
    return this.#op("FUS_FW_DELETE", async () => {
      await this.startFus();
      await this.#command("FW_DELETE", Op.FW_DELETE);
      await this.#pollPhases("FW_DELETE", (s) => s.state === FusState.IDLE, commandPhases("FW_DELETE"));
    });
  }

  /** AN5185 §2.3: switch CPU2 to the installed stack (at least one reset); done at NOT_RUNNING. */
  async startWirelessStack(): Promise<void> {
    return this.#op("FUS_START_WS", async () => {
      const s = await this.#answered("START_WS");
      if (isNotRunning(s)) return; // already running; another GET_STATE would start FUS
      await this.#command("START_WS", Op.START_WS);
      await this.#pollPhases("START_WS", (x) => isNotRunning(x), commandPhases("START_WS"));
    });
  }

  /** AN5185 §4.1: install or change the customer authentication key (64-byte P-256 X‖Y). No reset. */
  async updateAuthKey(publicKey: Uint8Array): Promise<void> {
    return this.#op("FUS_UPDATE_AUTH_KEY", async () => {
      await this.startFus();
      await this.#command("UPDATE_AUTH_KEY", Op.UPDATE_AUTH_KEY, encodeAuthKey(publicKey));
      await this.#poll("UPDATE_AUTH_KEY", (s) => s.state === FusState.IDLE);
    });
  }

  /**
   * AN5185 §4.2: lock the authentication key for the life of the chip. Irreversible: refused
   * unless the board is marked sacrificial AND the run explicitly allows irreversible
   * operations (the rig-level interlock is harness/lab/interlock*).
   */
  async lockAuthKey(consent: IrreversibleConsent): Promise<void> {
    if ("guard" in consent) consent.guard("fus-auth-key-lock");
    else if (!consent.boardIsSacrificial || !consent.allowIrreversible)
      throw this.#error(
        "refused",
        "LOCK_AUTH_KEY",
        `irreversible: needs a sacrificial board (${consent.boardIsSacrificial}) and an explicit allowIrreversible (${consent.allowIrreversible})`,
      );
    return this.#op("FUS_LOCK_AUTH_KEY", async () => {
      await this.startFus();
      await this.#command("LOCK_AUTH_KEY", Op.LOCK_AUTH_KEY);
      await this.#poll("LOCK_AUTH_KEY", (s) => s.state === FusState.IDLE);
    });
  }

  /** AN5185 §5: store a user key; resolves with the index FUS assigned. */
  async storeUserKey(kind: UserKeyKind, key: Uint8Array, iv?: Uint8Array): Promise<number> {
    return this.#op("FUS_STORE_USR_KEY", async () => {
      await this.startFus();
      await this.#command("STORE_USR_KEY", Op.STORE_USR_KEY, encodeUserKey(kind, key, iv));
      const index = await this.link.storedKeyIndex();
      if (index === undefined) throw this.#error("fus", "STORE_USR_KEY", "no key index returned");
      return index;
    });
  }

  /** AN5185 §5: load a stored key into AES1. */
  async loadUserKey(index: number): Promise<void> {
    return this.#op(`FUS_LOAD_USR_KEY ${index}`, async () => {
      await this.startFus();
      await this.#command("LOAD_USR_KEY", Op.LOAD_USR_KEY, Uint8Array.of(index));
    });
  }

  /**
   * GET_STATE until `done` (resets waited out, a Table 11 error or an undocumented state
   * thrown), as one "`operation`: FUS poll ×N" step: the end of a command a caller sent
   * through the link itself (conformance checks of the bootloader mapping, AN5185 §7).
   */
  async waitFor(operation: string, done: (s: FusStatus) => boolean): Promise<FusStatus> {
    return this.#poll(operation, done);
  }

  // ---- plumbing -------------------------------------------------------------------------

  #record(entry: FusTraceEntry): void {
    if (entry.kind === "no-answer") this.#resetsSeen++;
    this.trace.push(entry);
    this.events.emit("trace", entry);
  }

  async #command(name: string, opcode: number, data?: Uint8Array): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = await this.link.command(opcode, data);
      if (r?.ok) return;
      if (r && !r.ok) {
        // DFU carries no state in a failure; ask FUS (one GET_STATE, FUS is running here).
        const st = r.state === 0xff && r.error === 0xff ? ((await this.getState()) ?? r) : r;
        // A resend refused because the operation is under way: the first one got through.
        if (attempt > 0 && isOngoing(st.state)) return;
        throw this.#error("fus", name, "FUS refused the command", st, this.trace);
      }
      // No answer: a reset took it (Table 3 "no state is returned"); resend.
      this.#record({ t: this.clock.now(), kind: "no-answer" });
      await this.#reconnect(name);
    }
    throw this.#error("timeout", name, "no answer to the command, twice", undefined, this.trace);
  }

  /** A GET_STATE answer, waiting out resets. */
  async #answered(operation: string): Promise<FusStatus> {
    const deadline = this.clock.now() + this.#opts.offlineTimeoutMs;
    for (;;) {
      const s = await this.getState();
      if (s) return s;
      if (this.clock.now() >= deadline)
        throw this.#error("timeout", operation, "no FUS_GET_STATE answer", undefined, this.trace);
      await this.#reconnect(operation);
    }
  }

  /** A FusClientError with this session's trace and the link's transcript. */
  #error(
    kind: FusErrorKind,
    operation: string,
    detail: string,
    status?: { state: number; error: number },
    trace: readonly FusTraceEntry[] = [],
  ): FusClientError {
    return new FusClientError(kind, operation, detail, status, trace, this.link.source.transcript);
  }

  /** One operation of this client as reports show it, over the link's transcript. */
  #op<T>(title: string, body: (op: OperationHandle) => Promise<T>): Promise<T> {
    return operation(this.link.source, title, (op) => this.#typed(title, () => body(op)));
  }

  /**
   * `work`, with a device answer the protocol decoders refuse (a short GET_STATE, a device
   * information table cut short: FusReplyError, DeviceInfoError) turned into this client's
   * "reply" error with the transcript, as every other device failure is.
   */
  async #typed<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      if (e instanceof HilError && !(e instanceof ClientError) && e.category === "device")
        throw new FusClientError(
          "reply",
          operation,
          e.message,
          undefined,
          this.trace,
          this.link.source.transcript,
          e,
        );
      throw e;
    }
  }

  /** GET_STATE until `done`, as one step "FUS poll ×N" (N the GET_STATE count). */
  #poll(operation: string, done: (s: FusStatus) => boolean): Promise<FusStatus> {
    return this.#op(`${operation}: FUS poll`, async (op) => {
      let polls = 0;
      try {
        return await this.#pollUntil(operation, done, () => polls++);
      } finally {
        op.retitle(`${operation}: FUS poll ×${polls}`);
      }
    });
  }

  /**
   * A poll through FUS's resets (FW_UPGRADE, FW_DELETE, START_WS) as one step "FUS poll ×N",
   * cut into phases as the host sees them (install-phases.ts): each stretch up to the host
   * being back after a reset, and the last one up to the answer that ends the command, is a
   * timed operation of its own.
   */
  #pollPhases(operation: string, done: (s: FusStatus) => boolean, names: PhaseNames): Promise<FusStatus> {
    // Back after a reset is a resync over USART, a re-enumeration over USB: phases of their own.
    const over = this.link.kind === "usart" ? " over USART" : "";
    return this.#op(`${operation}: FUS poll`, async (op) => {
      let polls = 0;
      const deadline = this.clock.now() + this.#opts.operationTimeoutMs;
      try {
        let carried: FusStatus | undefined;
        for (let resets = 0; ; resets++) {
          // Over USART the answer that showed the reset is the next stretch's first (it may end it).
          if (carried && done(carried)) return carried;
          const from = carried;
          const stretch = await this.#op(`${operation}: after reset ${resets}`, async (phase) => {
            const r = await this.#pollStretch(operation, done, () => polls++, deadline, from);
            phase.retitle(
              ("end" in r
                ? names.afterLastReset(resets, isNotRunning(r.end))
                : names.beforeReset(resets + 1, r.answered !== undefined && isNotRunning(r.answered))) + over,
            );
            return r;
          });
          if ("end" in stretch) return stretch.end;
          carried = stretch.answered;
        }
      } finally {
        op.retitle(`${operation}: FUS poll ×${polls}`);
      }
    });
  }

  /**
   * GET_STATE until `done` (`end`) or until the host is back after a reset (`answered`: the
   * answer that came with it, over USART), starting from an answer already in hand.
   */
  async #pollStretch(
    operation: string,
    done: (s: FusStatus) => boolean,
    polled: () => void,
    deadline: number,
    first: FusStatus | undefined,
  ): Promise<{ end: FusStatus } | { answered: FusStatus | undefined }> {
    let s = first;
    for (;;) {
      if (s === undefined) {
        if (this.clock.now() > deadline)
          throw this.#error(
            "timeout",
            operation,
            `no end state within ${this.#opts.operationTimeoutMs} ms`,
            undefined,
            this.trace,
          );
        polled();
        const resets = this.#resetsSeen;
        s = await this.getState();
        if (!s) {
          await this.#reconnect(operation);
          return { answered: undefined };
        }
        if (this.#resetsSeen > resets) return { answered: s };
      }
      if (done(s)) return { end: s };
      this.#checkOngoing(operation, s);
      await this.clock.sleep(this.#opts.pollIntervalMs);
      s = undefined;
    }
  }

  /** A state a poll may go on from (an operation under way, FUS idle); @throws otherwise. */
  #checkOngoing(operation: string, s: FusStatus): void {
    if (s.state === FusState.ERROR && !isNotRunning(s))
      throw this.#error("fus", operation, "FUS reported an error", s, this.trace);
    if (isNotRunning(s))
      throw this.#error("state", operation, "the wireless stack answered: FUS is not running", s, this.trace);
    if (!isOngoing(s.state) && s.state !== FusState.IDLE)
      throw this.#error("fus", operation, "undocumented state", s, this.trace);
  }

  async #pollUntil(
    operation: string,
    done: (s: FusStatus) => boolean,
    polled: () => void,
  ): Promise<FusStatus> {
    const deadline = this.clock.now() + this.#opts.operationTimeoutMs;
    for (;;) {
      if (this.clock.now() > deadline)
        throw this.#error(
          "timeout",
          operation,
          `no end state within ${this.#opts.operationTimeoutMs} ms`,
          undefined,
          this.trace,
        );
      polled();
      const s = await this.getState();
      if (!s) {
        await this.#reconnect(operation);
        continue;
      }
      if (done(s)) return s;
      this.#checkOngoing(operation, s);
      await this.clock.sleep(this.#opts.pollIntervalMs);
    }
  }

  async #reconnect(operation: string): Promise<void> {
    try {
      await this.link.reconnect(this.#opts.offlineTimeoutMs);
    } catch (e) {
      throw this.#error(
        "timeout",
        operation,
        `device did not come back within ${this.#opts.offlineTimeoutMs} ms: ${(e as Error).message}`,
        undefined,
        this.trace,
      );
    }
    this.#record({ t: this.clock.now(), kind: "reconnected" });
  }
}

/** Kind and sector count from the image footer, also for files whose signatures are broken. */
function imageKind(image: Uint8Array): { kind: string; sectors: number; footer: ImageFooter } | undefined {
  try {
    const l = parseImageFile(image);
    return { kind: l.image.kind, sectors: l.image.memory.flashSectors, footer: l.image };
  } catch {
    for (let off = image.length - FOOTER_SIZE; off >= 0; off -= 4) {
      try {
        const f = parseImageFooter(image, off);
        return { kind: f.kind, sectors: f.memory.flashSectors, footer: f };
      } catch {}
    }
    return undefined;
  }
}

/** The little-endian word at `at` of what the device returned; a reply too short for it is a FusReplyError. */
function le32(bytes: Uint8Array, at: number, what: string): number {
  if (bytes.length < at + 4)
    throw new FusReplyError(at, `${what}: needs ${at + 4} bytes, the device returned ${bytes.length}`);
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at, true);
}
