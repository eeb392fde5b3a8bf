/**
 * The STM32WB Cortex-M0+ (CPU2) as the ROM bootloader sees it: either FUS or a wireless
 * stack runs on it (AN5185 §1.2). This model keeps what FUS keeps in its secure flash (the
 * installed stack, FUS version, authentication key, user keys, an operation journal) across
 * resets and power cuts, writes the device information table into SRAM2a at every boot
 * (§6.1.1), and changes the option bytes SFSA/SBRV as installs and deletes require.
 *
 * Operations follow AN5185 §2–§5 with the documented system resets:
 *  - FW_UPGRADE (first install): verify → reset → install in place → SFSA/SBRV → reset → stack runs.
 *  - FW_UPGRADE (upgrade): verify → reset → erase old stack → reset → move the new one to the
 *    top of the user flash → SFSA/SBRV → reset → stack runs.
 *  - FW_DELETE: reset → erase → SFSA/SBRV → reset → FUS idle.
 *  - FUS upgrade: verify → reset → move the stack lower if the new FUS is bigger → install
 *    FUS → reset → stack (if any) runs, else FUS idle.
 *  - START_WS: SBRV → reset → stack runs. Two GET_STATE to a running stack: SBRV → reset → FUS.
 * A reset FUS did not ask for (power cut, NRST) in the middle of an operation makes the next
 * boot recover (Table 3 "Other failures"): the half-installed image is erased, the device ends
 * in FUS idle, after one more reset.
 *
 * Every image page FUS moves is a flash erase + program on the chip's flash, so the fault
 * plan's flash-operation cuts reach every internal FUS flash operation.
 *
 * Emulator conventions where the documents are silent are marked [A] (see harness/devices/
 * stm32/fus/README.md).
 *
 * Images are found where ST's shipped files put them (protocol/fus/placement.ts). ST
 * signatures verify against the emulator's test key; with the `st-signature=unverified`
 * option an ST signature the emulator cannot verify (a real ST file's) is accepted unchecked,
 * a rehearsal mode that proves nothing about signatures.
 *
 * Fault-plan events: `fus.reset` before each reset FUS performs, `fus.state.<STATE>` as each
 * GET_STATE is answered by FUS (power-cut acts on the device; flash-op cuts reach every page
 * FUS erases or programs).
 */
import { createDecipheriv } from "node:crypto";
import {
  compareVersion,
  DEVICE_INFO_TABLE_ADDRESS,
  DEVICE_INFO_VALID,
  decodeUserKey,
  encodeDeviceInfo,
  encodeMemorySize,
  encodeVersion,
  FOOTER_SIZE,
  FUS_AREA_1MB,
  type FusCommandStatus,
  FusError,
  FusMagic,
  FusState,
  fusErrorName,
  fusStateName,
  type ImageFooter,
  imageStart,
  LastFusActiveState,
  LastWirelessStackState,
  MAX_USER_KEYS,
  FusBootloaderOpcode as Op,
  pageOf,
  parseImageFooter,
  parseSignatureFooter,
  SBRV_FUS,
  SRAM2A_BASE,
  versionUnstated,
} from "../../../protocol/fus/index.js";
import { PowerLostError } from "../../../sim/power.js";
import { EmulatorOptionError } from "../../option-error.js";
import type { Stm32Device } from "../device.js";
import { OB } from "../option-bytes.js";
import { bodyDigest, DIGEST_SIZE, ST_TEST_PUBLIC, signedMessage, verifyFus } from "./test-keys.js";
import { FUS_TIMING, type FusTiming } from "./timing.js";

const PAGE = 4096;
const FLASH = 0x0800_0000;

export interface StackRecord {
  version: number;
  /** First page and size in 4 KB sectors. */
  page: number;
  sectors: number;
  sram2aKb: number;
  sram2bKb: number;
  type: number;
  info1: number;
  info2: number;
}

type Journal =
  | {
      op: "install";
      step: "erase-old" | "copy" | "recover";
      src: number;
      dst: number;
      /** Pages from src the staged file covers (image + signature tail). */
      srcPages: number;
      image: StackRecord;
      old?: StackRecord;
      fusReset: boolean;
      progress: number;
    }
  | { op: "delete"; step: "erase"; fusReset: boolean; progress: number }
  | {
      op: "safeboot";
      step: "install";
      src: number;
      srcPages: number;
      version: number;
      fusReset: boolean;
      progress: number;
    }
  | {
      op: "fus-upgrade";
      step: "install" | "recover";
      src: number;
      srcPages: number;
      sectors: number;
      version: number;
      moveBy: number;
      fusReset: boolean;
      progress: number;
    };

/** What FUS keeps in its secure flash. */
export interface FusNv {
  fusVersion: number;
  fusSectors: number;
  /** First page of the FUS area: the secure boundary when no stack is installed. */
  fusBase: number;
  safeBootVersion: number;
  stack?: StackRecord;
  authKey?: Uint8Array;
  authKeyLocked: boolean;
  masterKey?: Uint8Array;
  /** Index → key (simple or decrypted). Index 0 is the master key's [A]. */
  userKeys: Map<number, Uint8Array>;
  journal?: Journal;
}

/** How FUS treats an ST signature it cannot verify with the emulator's test key. */
export type StSignatureMode = "verify" | "unverified";

export interface FusOptions {
  timing?: Partial<FusTiming>;
  /** Factory state: a stack installed and running (default, like the SFSA 0xD0 default option bytes) or none. */
  factoryStack?: boolean;
  /** The FUS version the part left the factory with (a version word; default 1.2.0). */
  fusVersion?: number;
  /** "unverified": accept ST signatures the test key does not verify (real ST files; proves nothing). */
  stSignature?: StSignatureMode;
  /**
   * A planted defect for fault-campaign tests (never a real FUS's behaviour): after an
   * unexpected reset mid-copy of a stack install, record the stack as installed and start it.
   */
  startHalfInstalledStack?: boolean;
}

/** The `st-signature` emulator option (rig file `options`, `hil emulate --option st-signature=...`). */
export function stSignatureMode(options: Readonly<Record<string, unknown>> | undefined): StSignatureMode {
  const v = options?.["st-signature"];
  if (v === undefined || v === "verify") return "verify";
  if (v === "unverified") return "unverified";
  throw new EmulatorOptionError("st-signature", "verify or unverified", v);
}

/** The FUS a part starts with unless the `fusVersion` option says otherwise. */
export const FACTORY_FUS_VERSION = encodeVersion({ major: 1, minor: 2, sub: 0, branch: 0, build: 0 });

/**
 * The `fusVersion` emulator option: the FUS version the part starts with, `MAJOR.MINOR.SUB`
 * as the device information table reads (the fact sheet names 0.5.3, 1.0.1, 1.1.1, 1.2.0 and
 * 2.2.0). It sets the version FUS reports and the rollback check compares with; nothing else
 * of FUS changes with it (ST's upgrade path rules are not modelled).
 * @throws {EmulatorOptionError} naming the option for anything but three numbers 0..255.
 */
export function factoryFusVersion(options: Readonly<Record<string, unknown>> | undefined): number {
  const v = options?.fusVersion;
  if (v === undefined) return FACTORY_FUS_VERSION;
  const m = typeof v === "string" ? /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v) : null;
  const [major, minor, sub] = (m ?? []).slice(1).map(Number);
  if (major === undefined || minor === undefined || sub === undefined || Math.max(major, minor, sub) > 0xff)
    throw new EmulatorOptionError("fusVersion", 'a FUS version MAJOR.MINOR.SUB such as "1.2.0" (quoted)', v);
  return encodeVersion({ major, minor, sub, branch: 0, build: 0 });
}

/**
 * Factory FUS: 1.2.0 unless `fusVersion` says, 6 sectors [A]. The FUS area starts at 0x080F4000: every release-notes
 * install address of a classic stack or FUS 2.x ends there (fact sheet §5.7).
 */
export function factoryNv(withStack: boolean, sfsa: number, fusVersion = FACTORY_FUS_VERSION): FusNv {
  const fusBase = pageOf(FUS_AREA_1MB);
  return {
    fusVersion,
    fusSectors: 6,
    fusBase,
    safeBootVersion: encodeVersion({ major: 1, minor: 1, sub: 1, branch: 0, build: 0 }),
    stack:
      withStack && sfsa < fusBase
        ? {
            version: encodeVersion({ major: 1, minor: 13, sub: 0, branch: 0, build: 0 }),
            page: sfsa,
            sectors: fusBase - sfsa,
            sram2aKb: 24,
            sram2bKb: 4,
            type: 0x01,
            info1: 0x01,
            info2: 0,
          }
        : undefined,
    authKeyLocked: false,
    userKeys: new Map(),
  };
}

type Mode = "off" | "fus" | "stack";

/** An erase or program FUS performs failed (the flash model's fault, or a unit not erased). */
class FusFlashFailure extends Error {
  override name = "FusFlashFailure";
}

export class Cpu2 {
  readonly timing: FusTiming;
  readonly stSignature: StSignatureMode;
  readonly startHalfInstalledStack: boolean;
  /** The FUS version the part left the factory with (a factory reset returns to it). */
  readonly factoryFusVersion: number;
  nv: FusNv;
  #mode: Mode = "off";
  #state: number = FusState.IDLE;
  #error: number = FusError.NO_ERROR;
  /** An error to report by the next GET_STATE, after which FUS is idle again (Table 3). */
  #reportOnce = false;
  #stackGetStates = 0;
  #slowFirstGetState = false;
  #lastKeyIndex: number | undefined;
  /** AES1 key register (secure: only CPU2 writes it). */
  aes1Key: Uint8Array | undefined;
  /** Resets FUS itself asked for, for tests and reports. */
  fusResets = 0;

  constructor(
    readonly device: Stm32Device,
    opts: FusOptions = {},
  ) {
    this.timing = { ...FUS_TIMING, ...opts.timing };
    this.stSignature = opts.stSignature ?? "verify";
    this.startHalfInstalledStack = opts.startHalfInstalledStack ?? false;
    this.factoryFusVersion = opts.fusVersion ?? FACTORY_FUS_VERSION;
    this.nv = factoryNv(
      opts.factoryStack ?? true,
      device.chip.optionBytes.storedWord(OB.SFSA) & 0xff,
      this.factoryFusVersion,
    );
    // A part without a stack has its secure area at the FUS and boots FUS on CPU2.
    if (!this.nv.stack) {
      this.#setSfsa(this.nv.fusBase);
      this.#setSbrv(SBRV_FUS);
    }
  }

  /** Which firmware CPU2 runs now. */
  get mode(): Mode {
    return this.#mode;
  }

  get state(): { state: number; error: number } {
    return { state: this.#state, error: this.#error };
  }

  // ---- boot ------------------------------------------------------------------------------

  /** Called by the chip's boot after the option-byte reload (the system bootloader starts CPU2). */
  onBoot(): void {
    const j = this.nv.journal;
    const sbrv = this.device.chip.optionBytes.activeWord(OB.SBRV) & 0x3ffff;
    this.#stackGetStates = 0;
    this.#reportOnce = false;
    this.#error = FusError.NO_ERROR;
    if (
      j?.op === "install" &&
      j.step === "copy" &&
      !j.fusReset &&
      j.progress > 0 &&
      this.startHalfInstalledStack
    ) {
      this.#log("boot: planted defect: the half-installed stack is recorded and started");
      this.nv.stack = { ...j.image, page: j.dst };
      this.nv.journal = undefined;
      this.#setSfsa(j.dst);
      this.#setSbrv(this.#stackSbrv(j.dst));
      this.#mode = "stack";
      this.#state = FusState.ERROR;
      this.#error = FusError.NOT_RUNNING;
    } else if (j) {
      this.#mode = "fus";
      this.#state =
        j.op === "fus-upgrade" || j.op === "safeboot"
          ? FusState.FUS_UPGRD_ONGOING
          : FusState.FW_UPGRD_ONGOING;
      const resumed = j.fusReset;
      j.fusReset = false;
      // A Safeboot update is rerun whole; the others recover (Table 3 "Other failures").
      if (!resumed && (j.op === "install" || j.op === "fus-upgrade")) j.step = "recover";
      this.#log(
        `boot: FUS resumes ${j.op} (${resumed ? "its own reset" : "unexpected reset: recovery"}) at ${j.step}`,
      );
      this.#spawn(`${j.op} ${j.step}`, (epoch) => this.#continue(epoch));
    } else if (sbrv !== SBRV_FUS && this.nv.stack) {
      this.#mode = "stack";
      this.#state = FusState.ERROR;
      this.#error = FusError.NOT_RUNNING;
      this.#log(`boot: wireless stack runs (SBRV 0x${sbrv.toString(16)})`);
    } else {
      this.#mode = "fus";
      this.#state = FusState.IDLE;
      this.#log("boot: FUS runs");
    }
    this.#writeInfoTable();
  }

  onPowerLost(): void {
    this.#mode = "off";
    this.#lastKeyIndex = undefined;
  }

  // ---- bootloader interface ---------------------------------------------------------------

  /**
   * FUS_GET_STATE through the bootloader. undefined = no answer: the chip reset under the
   * request (second GET_STATE to a running stack, AN5185 §1.2 / Table 3 "no state returned").
   */
  async getState(): Promise<{ state: number; error: number } | undefined> {
    const epoch = this.device.power.epoch;
    if (this.#mode === "stack") {
      this.#stackGetStates++;
      if (this.#stackGetStates >= 2) {
        this.#log("second FUS_GET_STATE to the wireless stack: reboot into FUS");
        this.#setSbrv(SBRV_FUS);
        await this.#fusReset("FUS activation (second FUS_GET_STATE)");
        return undefined;
      }
      if (this.#slowFirstGetState) {
        this.#slowFirstGetState = false;
        await this.device.busy(epoch, this.timing.firstGetStateAfterInstallMs);
      }
      return { state: FusState.ERROR, error: FusError.NOT_RUNNING };
    }
    if (this.#mode === "off") return undefined;
    await this.device.busy(epoch, this.timing.commandMs);
    const reply = { state: this.#state, error: this.#error };
    // Fault-plan event "fus.state.<NAME>" ("FUS state FW_UPGRD_ONGOING seen twice" = #2).
    this.device.event(`fus.state.${fusStateName(reply.state) ?? "UNKNOWN"}`);
    this.device.power.assertEpoch(epoch);
    if (this.#reportOnce) {
      this.#reportOnce = false;
      this.#state = FusState.IDLE;
      this.#error = FusError.NO_ERROR;
    }
    return reply;
  }

  /** Key index of the last FUS_STORE_USR_KEY (DFU upload 0xFFFF0059). */
  get lastKeyIndex(): number | undefined {
    return this.#lastKeyIndex;
  }

  /** A FUS command from the bootloader (USART special write, DFU DNLOAD 0). */
  async command(opcode: number, data: Uint8Array): Promise<FusCommandStatus> {
    const epoch = this.device.power.epoch;
    if (this.#mode !== "fus") {
      this.#log(`command 0x${opcode.toString(16)} to the wireless stack: not supported`);
      return { ok: false, state: FusState.ERROR, error: FusError.NOT_RUNNING };
    }
    await this.device.busy(epoch, this.timing.commandMs);
    if (this.#state !== FusState.IDLE && !this.#reportOnce)
      return { ok: false, state: this.#state, error: this.#error };
    this.#reportOnce = false;
    this.#state = FusState.IDLE;
    this.#error = FusError.NO_ERROR;
    switch (opcode) {
      case Op.FW_UPGRADE:
        this.#state = FusState.FW_UPGRD_ONGOING;
        this.#spawn("FW_UPGRADE", (e) => this.#upgrade(e));
        return { ok: true };
      case Op.FW_DELETE:
        if (!this.nv.stack) {
          this.#fail(FusError.IMG_NOT_FOUND, "FW_DELETE: no wireless stack installed");
          return { ok: true };
        }
        this.#state = FusState.FW_UPGRD_ONGOING;
        this.nv.journal = { op: "delete", step: "erase", fusReset: false, progress: 0 };
        this.#spawn("FW_DELETE", async (e) => {
          await this.device.busy(e, this.timing.prepareMs);
          await this.#fusReset("FW_DELETE: start");
        });
        return { ok: true };
      case Op.START_WS:
        if (!this.nv.stack) {
          this.#log("START_WS: no wireless stack installed");
          return { ok: false, state: FusState.ERROR, error: FusError.IMG_NOT_FOUND };
        }
        this.#setSbrv(this.#stackSbrv(this.nv.stack.page));
        this.#spawn("START_WS", async (e) => {
          await this.device.busy(e, this.timing.prepareMs);
          await this.#fusReset("START_WS: switch CPU2 to the wireless stack");
        });
        return { ok: true };
      case Op.UPDATE_AUTH_KEY: {
        if (this.nv.authKeyLocked) {
          this.#log("UPDATE_AUTH_KEY refused: key locked");
          return { ok: false, state: FusState.ERROR, error: FusError.AUTH_KEY_LOCKED };
        }
        if (data.length !== 65 || data[0] !== 64)
          return { ok: false, state: FusState.ERROR, error: FusError.ERR_UNKNOWN };
        await this.#service(epoch);
        this.nv.authKey = data.slice(1);
        this.#log("authentication key updated");
        return { ok: true };
      }
      case Op.LOCK_AUTH_KEY:
        if (!this.nv.authKey) return { ok: false, state: FusState.ERROR, error: FusError.ERR_UNKNOWN };
        await this.#service(epoch);
        this.nv.authKeyLocked = true;
        this.#log("authentication key locked for good");
        return { ok: true };
      case Op.STORE_USR_KEY:
        return this.#storeKey(epoch, data);
      case Op.LOAD_USR_KEY: {
        const key = data.length === 1 && data[0] !== 0 ? this.nv.userKeys.get(data[0]!) : undefined;
        if (!key) return { ok: false, state: FusState.ERROR, error: FusError.ERR_UNKNOWN };
        await this.#service(epoch);
        this.aes1Key = key.slice();
        this.#log(`user key ${data[0]} loaded into AES1`);
        return { ok: true };
      }
      default:
        return { ok: false, state: FusState.ERROR, error: FusError.ERR_UNKNOWN };
    }
  }

  // ---- services ---------------------------------------------------------------------------

  async #service(epoch: number): Promise<void> {
    this.#state = FusState.SERVICE_ONGOING;
    await this.device.busy(epoch, this.timing.serviceMs);
    this.#state = FusState.IDLE;
  }

  async #storeKey(epoch: number, data: Uint8Array): Promise<FusCommandStatus> {
    let parsed: ReturnType<typeof decodeUserKey>;
    try {
      parsed = decodeUserKey(data);
    } catch {
      return { ok: false, state: FusState.ERROR, error: FusError.ERR_UNKNOWN };
    }
    const ko = { ok: false as const, state: FusState.ERROR, error: FusError.ERR_UNKNOWN };
    if (parsed.kind === "master") {
      if (this.nv.masterKey) return ko; // can't be changed (§5.1)
      await this.#service(epoch);
      this.nv.masterKey = parsed.key.slice();
      this.#lastKeyIndex = 0;
      return { ok: true };
    }
    let key = parsed.key;
    if (parsed.kind === "encrypted") {
      if (this.nv.masterKey?.length !== 16) return ko;
      // AES-128-GCM confidentiality part: CTR from J0 + 1 = IV ‖ 0x00000002 (no tag is carried) [A].
      const counter = Uint8Array.of(...parsed.iv!, 0, 0, 0, 2);
      const d = createDecipheriv("aes-128-ctr", this.nv.masterKey!, counter);
      key = Uint8Array.from(Buffer.concat([d.update(parsed.key), d.final()]));
    }
    const used = [...this.nv.userKeys.keys()].length;
    if (used >= MAX_USER_KEYS) return ko;
    await this.#service(epoch);
    const index = used + 1;
    this.nv.userKeys.set(index, key);
    this.#lastKeyIndex = index;
    this.#log(`user key (${parsed.kind}) stored at index ${index}`);
    return { ok: true };
  }

  // ---- image operations ----------------------------------------------------------------------

  async #upgrade(epoch: number): Promise<void> {
    await this.device.busy(epoch, this.timing.verifyMs);
    const found = this.#findImage();
    if ("error" in found) return this.#failAndErase(found.error, found.detail, found.erase);
    const { footer, start, fileEnd } = found;
    const srcPage = start / PAGE;
    const srcPages = Math.ceil(fileEnd / PAGE) - srcPage;
    this.#log(
      `${footer.kind}${footer.fusV2Only ? " (FUSv2 only)" : ""} image ${formatVersionOf(footer)}, ${footer.memory.flashSectors} sectors at 0x${(FLASH + start).toString(16)}`,
    );
    if (footer.kind === "safeboot") {
      // Release notes: a Safeboot update ends in a factory reset (no stack, FUS idle) [A].
      this.#state = FusState.FUS_UPGRD_ONGOING;
      this.nv.journal = {
        op: "safeboot",
        step: "install",
        src: srcPage,
        srcPages,
        version: encodeVersionOf(footer),
        fusReset: false,
        progress: 0,
      };
      return this.#fusReset("Safeboot update: verified");
    }
    if (footer.kind === "fus") {
      // The FUS 1.2.0 files state no version (all ones): no rollback check, the version stays [A].
      const unstated = versionUnstated(footer);
      if (!unstated && compareVersion(encodeVersionOf(footer), this.nv.fusVersion) <= 0)
        return this.#fail(FusError.FW_ROLLBACK_ERROR, "FUS image is not newer than the running FUS [A]");
      const moveBy = this.nv.stack ? Math.max(0, footer.memory.flashSectors - this.nv.fusSectors) : 0;
      if (this.nv.stack && moveBy > 0 && this.nv.stack.page - moveBy < srcPage + srcPages)
        return this.#fail(FusError.IMG_NOT_ENOUGH_SPACE, "no room to move the stack below the new FUS");
      this.#state = FusState.FUS_UPGRD_ONGOING;
      this.nv.journal = {
        op: "fus-upgrade",
        step: "install",
        src: srcPage,
        srcPages,
        sectors: footer.memory.flashSectors,
        version: unstated ? this.nv.fusVersion : encodeVersionOf(footer),
        moveBy,
        fusReset: false,
        progress: 0,
      };
      return this.#fusReset("FUS upgrade: verified");
    }
    const image: StackRecord = {
      version: encodeVersionOf(footer),
      page: srcPage,
      sectors: footer.memory.flashSectors,
      sram2aKb: footer.memory.sram2aKb,
      sram2bKb: footer.memory.sram2bKb,
      type: footer.info1 & 0xff,
      info1: footer.info1,
      info2: footer.info2,
    };
    const old = this.nv.stack;
    let dst = srcPage;
    if (old) {
      // AN5185 §2.1.1 load address rule, checked as the space rule of Table 3.
      const limit =
        image.sectors <= old.sectors
          ? old.page - image.sectors
          : old.page - (2 * image.sectors - old.sectors);
      if (srcPage > limit || srcPage + srcPages > old.page)
        return this.#fail(
          FusError.IMG_NOT_ENOUGH_SPACE,
          `image at page 0x${srcPage.toString(16)} above the limit 0x${limit.toString(16)} for the installed stack at 0x${old.page.toString(16)}`,
        );
      // FUS moves an upgraded stack to the top [A]; a "FUSv2 only" stack stays 4 sectors lower,
      // where its release-notes address ends (0x080F0000 against 0x080F4000).
      dst = this.nv.fusBase - (footer.fusV2Only ? FUSV2_RESERVED_SECTORS : 0) - image.sectors;
    }
    this.nv.journal = {
      op: "install",
      step: old ? "erase-old" : "copy",
      src: srcPage,
      dst,
      srcPages,
      image,
      old,
      fusReset: false,
      progress: 0,
    };
    await this.#fusReset("FW_UPGRADE: image verified");
  }

  /** Work after a boot with a journal: the next step, or the recovery. */
  async #continue(epoch: number): Promise<void> {
    const j = this.nv.journal!;
    await this.device.busy(epoch, this.timing.cpu2StartMs);
    if (j.op === "delete") {
      const s = this.nv.stack;
      if (s) await this.#erasePages(epoch, s.page, s.sectors, j);
      this.nv.stack = undefined;
      this.#setSfsa(this.nv.fusBase);
      this.#setSbrv(SBRV_FUS);
      this.nv.journal = undefined;
      return this.#fusReset("FW_DELETE: done, secure area moved up");
    }
    if (j.op === "safeboot") {
      // Safeboot into FUS's area (not modelled as flash), then the factory reset the release
      // notes describe: stack removed, user flash erased, FUS idle. Rerun whole after a cut.
      await this.device.busy(epoch, this.timing.fusUpgradePerSectorMs * j.srcPages);
      this.nv.safeBootVersion = j.version;
      const s = this.nv.stack;
      if (s) await this.#erasePages(epoch, s.page, s.sectors, j);
      this.nv.stack = undefined;
      for (let p = 0; p < this.nv.fusBase; p++)
        if (!this.device.chip.flash.peek(FLASH + p * PAGE, PAGE).every((b) => b === 0xff))
          await this.#erasePage(epoch, p, j);
      this.#setSfsa(this.nv.fusBase);
      this.#setSbrv(SBRV_FUS);
      this.nv.journal = undefined;
      return this.#fusReset("Safeboot update: done, factory state");
    }
    if (j.op === "install") {
      if (j.step === "recover") return this.#recoverInstall(epoch, j);
      if (j.step === "erase-old" && j.old) {
        await this.#erasePages(epoch, j.old.page, j.old.sectors, j);
        this.nv.stack = undefined;
        j.step = "copy";
        j.progress = 0;
        return this.#fusReset("FW_UPGRADE: old stack deleted");
      }
      // Install: move (or rewrite in place, "decrypting") every sector, top one first.
      const n = j.image.sectors;
      for (let i = n - 1; i >= 0; i--) {
        await this.#copyPage(epoch, j.src + i, j.dst + i);
        await this.device.busy(epoch, this.timing.installPerSectorMs);
        j.progress++;
      }
      // The staging pages the stack does not occupy now are free again (§2.1.2).
      for (let p = j.src; p < j.src + j.srcPages; p++)
        if (p < j.dst || p >= j.dst + n) await this.#erasePage(epoch, p, j);
      this.nv.stack = { ...j.image, page: j.dst };
      this.#setSfsa(j.dst);
      this.#setSbrv(this.#stackSbrv(j.dst));
      this.nv.journal = undefined;
      this.#slowFirstGetState = true;
      return this.#fusReset("FW_UPGRADE: installed, secure boundaries set");
    }
    // FUS upgrade
    if (j.step === "recover") {
      if (j.progress > 0 && j.moveBy > 0 && this.nv.stack) {
        const s = this.nv.stack;
        await this.#erasePages(epoch, s.page - j.moveBy, s.sectors + j.moveBy, undefined);
        this.nv.stack = undefined;
      }
      await this.#erasePages(epoch, j.src, j.srcPages, undefined);
      this.#setSfsa(this.nv.stack?.page ?? this.nv.fusBase);
      this.#setSbrv(SBRV_FUS);
      this.nv.journal = undefined;
      return this.#fusReset("FUS upgrade: recovered");
    }
    const s = this.nv.stack;
    if (s && j.moveBy > 0) {
      for (let i = 0; i < s.sectors; i++) {
        await this.#copyPage(epoch, s.page + i, s.page - j.moveBy + i);
        j.progress++;
      }
      await this.#erasePages(epoch, s.page + s.sectors - j.moveBy, j.moveBy, j);
      this.nv.stack = { ...s, page: s.page - j.moveBy };
    }
    const newBase = this.nv.fusBase - Math.max(0, j.sectors - this.nv.fusSectors);
    for (let i = 0; i < j.sectors; i++) {
      await this.#copyPage(epoch, j.src + i, newBase + i);
      await this.device.busy(epoch, this.timing.fusUpgradePerSectorMs);
      j.progress++;
    }
    await this.#erasePages(epoch, j.src, j.srcPages, j);
    this.nv.fusVersion = j.version;
    this.nv.fusSectors = Math.max(j.sectors, this.nv.fusSectors);
    this.nv.fusBase = newBase;
    this.#setSfsa(this.nv.stack?.page ?? this.nv.fusBase);
    this.#setSbrv(this.nv.stack ? this.#stackSbrv(this.nv.stack.page) : SBRV_FUS);
    this.nv.journal = undefined;
    return this.#fusReset("FUS upgrade: new FUS installed");
  }

  /** Table 3 "Other failures": delete the half-installed image, back to the default state. */
  async #recoverInstall(epoch: number, j: Extract<Journal, { op: "install" }>): Promise<void> {
    const oldIntact = j.old && j.progress === 0 && this.nv.stack !== undefined;
    if (j.old && !oldIntact) {
      await this.#erasePages(epoch, j.old.page, j.old.sectors, undefined);
      this.nv.stack = undefined;
    }
    await this.#erasePages(epoch, j.dst, j.image.sectors, undefined);
    await this.#erasePages(epoch, j.src, j.srcPages, undefined);
    this.nv.stack = oldIntact ? j.old : undefined;
    this.#setSfsa(this.nv.stack?.page ?? this.nv.fusBase);
    this.#setSbrv(SBRV_FUS);
    this.nv.journal = undefined;
    await this.#fusReset("recovery: corrupted image deleted");
  }

  // ---- image search --------------------------------------------------------------------

  /**
   * Search the user flash (below SFSA) for an image: the highest ST signature footer, the
   * image footer before its signature, a customer signature anywhere (AN5185 §6.4). The image
   * starts `flash sectors` below the end of the sector holding the image footer's last byte,
   * as ST's files are laid out (placement.ts).
   */
  #findImage():
    | { footer: ImageFooter; start: number; fileEnd: number }
    | { error: number; detail: string; erase?: [number, number] } {
    const chip = this.device.chip;
    const userBytes = chip.userPages * PAGE;
    const flash = chip.flash.peek(FLASH, userBytes);
    const view = new DataView(flash.buffer, flash.byteOffset, flash.byteLength);
    const words = (magic: number) => {
      const hits: number[] = [];
      for (let off = userBytes - 4; off >= 16; off -= 4)
        if (view.getUint32(off, true) === magic) hits.push(off - 16);
      return hits;
    };
    const st = words(FusMagic.ST_SIGNATURE)[0];
    if (st === undefined) {
      // Table 3 "Image signature not found": an image is there, its ST signature is not.
      const image = IMAGE_MAGICS.some((m) => words(m).length > 0);
      return image
        ? { error: FusError.IMG_NOT_AUTHENTIC, detail: "image footer found but no ST signature footer" }
        : { error: FusError.IMG_NOT_FOUND, detail: "no image footer in user flash" };
    }
    let stFooter: ReturnType<typeof parseSignatureFooter>;
    let footer: ImageFooter;
    const stSigOff = () => st - stFooter.size;
    try {
      stFooter = parseSignatureFooter(flash, st);
      footer = parseImageFooter(flash, stSigOff() - FOOTER_SIZE);
    } catch (e) {
      return { error: FusError.IMG_NOT_FOUND, detail: (e as Error).message };
    }
    const footerOff = stSigOff() - FOOTER_SIZE;
    const start = imageStart(footerOff + FOOTER_SIZE, footer.memory.flashSectors);
    if (start < 0)
      return {
        error: FusError.IMG_NOT_FOUND,
        detail: `image footer at 0x${(FLASH + footerOff).toString(16)} names ${footer.memory.flashSectors} sectors, more than lie below it`,
      };
    if (footer.kind === "other")
      return { error: FusError.IMG_NOT_FOUND, detail: "footer names an 'other firmware' image" };
    // §2.2.2: an image not written from a sector start is rejected. A file written from
    // inside the sector leaves the image's first word erased (no ST file starts so) [A].
    if (view.getUint32(start, true) === 0xffff_ffff)
      return {
        error: FusError.IMG_NOT_FOUND,
        detail: `image start 0x${(FLASH + start).toString(16)} (from the image footer's ${footer.memory.flashSectors} sectors) is erased: not written from a sector start`,
      };
    const trailer = flash.slice(footerOff - DIGEST_SIZE, footerOff);
    const message = signedMessage(flash.slice(footerOff, footerOff + FOOTER_SIZE), trailer);
    const stVerified = verifyFus(flash.slice(stSigOff(), st), message, ST_TEST_PUBLIC);
    if (!stVerified) {
      if (this.stSignature !== "unverified")
        return { error: FusError.IMG_NOT_AUTHENTIC, detail: "ST signature does not verify" };
      this.#log("ST signature not verified: accepted unchecked (st-signature=unverified)");
    }
    let fileEnd = st + FOOTER_SIZE;
    if (this.nv.authKey) {
      const cust = words(FusMagic.CUSTOMER_SIGNATURE)[0];
      if (cust === undefined)
        return { error: FusError.IMG_NOT_AUTHENTIC, detail: "customer signature not found" };
      const size = flash[cust + 8]!;
      if (cust - size < 0 || !verifyFus(flash.slice(cust - size, cust), message, this.nv.authKey))
        return { error: FusError.IMG_NOT_AUTHENTIC, detail: "customer signature does not verify" };
      if (cust === st + FOOTER_SIZE + size) fileEnd = cust + FOOTER_SIZE;
    } else if (
      st + FOOTER_SIZE + 64 + FOOTER_SIZE <= userBytes &&
      view.getUint32(st + FOOTER_SIZE + 64 + 16, true) === FusMagic.CUSTOMER_SIGNATURE
    ) {
      fileEnd = st + FOOTER_SIZE + 64 + FOOTER_SIZE;
    }
    // The body digest is the test signature's stand-in for ST's encrypted payload: an image
    // accepted unverified has no digest to check.
    if (stVerified) {
      const digest = bodyDigest(flash.subarray(start, footerOff - DIGEST_SIZE));
      if (!digest.every((b, i) => b === trailer[i]))
        return {
          error: FusError.IMG_CORRUPT,
          detail: "body digest does not match",
          erase: [start / PAGE, Math.ceil(fileEnd / PAGE) - start / PAGE],
        };
    }
    return { footer, start, fileEnd };
  }

  // ---- helpers ----------------------------------------------------------------------------

  #fail(error: number, detail: string): void {
    this.#log(`error ${fusErrorName(error)}: ${detail}`);
    this.#state = FusState.ERROR;
    this.#error = error;
    this.#reportOnce = true;
  }

  async #failAndErase(error: number, detail: string, erase?: [number, number]): Promise<void> {
    const epoch = this.device.power.epoch;
    if (erase) {
      this.#log(`corrupted image erased (pages 0x${erase[0].toString(16)}+${erase[1]})`);
      await this.#erasePages(epoch, erase[0], erase[1], undefined);
    }
    this.#fail(error, detail);
  }

  async #erasePages(
    epoch: number,
    first: number,
    count: number,
    j: { progress: number } | undefined,
  ): Promise<void> {
    for (let p = first; p < first + count; p++) await this.#erasePage(epoch, p, j);
  }

  async #erasePage(epoch: number, page: number, j: { progress: number } | undefined): Promise<void> {
    const r = this.device.chip.flash.erase(page);
    if (!r.ok) throw new FusFlashFailure(`FUS erase of page ${page}: ${r.detail}`);
    await this.device.busy(epoch, this.device.profile.timing.pageEraseMs);
    if (j) j.progress++;
  }

  async #copyPage(epoch: number, src: number, dst: number): Promise<void> {
    const flash = this.device.chip.flash;
    const data = flash.peek(FLASH + src * PAGE, PAGE);
    await this.#erasePage(epoch, dst, undefined);
    const r = flash.program(FLASH + dst * PAGE, data);
    if (!r.ok) throw new FusFlashFailure(`FUS program of page ${dst}: ${r.detail}`);
    await this.device.busy(epoch, (PAGE / 8) * this.device.profile.timing.doubleWordProgramMs);
  }

  #stackSbrv(page: number): number {
    return ((page * PAGE) / 4) & 0x3ffff;
  }

  #setSbrv(value: number): void {
    const ob = this.device.chip.optionBytes;
    ob.setWord(OB.SBRV, ((ob.storedWord(OB.SBRV) & ~0x3ffff) | value) >>> 0);
  }

  #setSfsa(page: number): void {
    const ob = this.device.chip.optionBytes;
    ob.setWord(OB.SFSA, ((ob.storedWord(OB.SFSA) & ~0xff) | page) >>> 0);
  }

  async #fusReset(reason: string): Promise<void> {
    // Fault-plan event "fus.reset" (k-th FUS-initiated reset): a power cut lands just before it.
    this.device.event("fus.reset");
    if (!this.device.power.isOn) return;
    if (this.nv.journal) this.nv.journal.fusReset = true;
    this.fusResets++;
    this.device.log("fus", `system reset by CPU2: ${reason}`);
    await this.device.systemReset(`FUS: ${reason}`);
  }

  #spawn(name: string, work: (epoch: number) => Promise<void>): void {
    void this.device.powered(work).catch((e) => {
      if (e instanceof PowerLostError) return;
      this.device.log("fus", `${name} failed: ${(e as Error).message}`);
      if (e instanceof FusFlashFailure && this.nv.journal) this.#resetAfterFlashFailure(e);
    });
  }

  /**
   * A page FUS could not erase or program mid-operation: Table 3 "Other failures" [A]. FUS
   * resets as after an interruption, so the next boot deletes the half-installed image (or
   * reruns a delete or Safeboot update) and ends idle, instead of staying ongoing for ever.
   */
  #resetAfterFlashFailure(e: FusFlashFailure): void {
    this.nv.journal!.fusReset = false;
    void this.device.systemReset(`FUS: ${e.message}`).catch((x) => {
      if (!(x instanceof PowerLostError)) this.device.log("fus", `reset failed: ${(x as Error).message}`);
    });
  }

  #writeInfoTable(): void {
    const sram = this.device.chip.sram;
    const base = this.device.profile.sram.base;
    if (SRAM2A_BASE + 0x100 > base + sram.length) return;
    const s = this.nv.stack;
    const none = 0xffff_ffff;
    const table = encodeDeviceInfo({
      state: DEVICE_INFO_VALID,
      lastFusActiveState:
        this.#mode === "stack"
          ? LastFusActiveState.WIRELESS_STACK_RUNNING
          : this.nv.journal?.op === "fus-upgrade" || this.nv.journal?.op === "safeboot"
            ? LastFusActiveState.FUS_UPGRADE
            : this.nv.journal
              ? LastFusActiveState.FW_UPGRADE
              : LastFusActiveState.FUS_IDLE,
      lastWirelessStackState:
        this.#mode === "stack" ? LastWirelessStackState.RUNNING : LastWirelessStackState.NOT_STARTED,
      wirelessStackType: s ? s.type : 0,
      safeBootVersion: this.nv.safeBootVersion,
      fusVersion: this.nv.fusVersion,
      fusMemorySize: encodeMemorySize({ flashSectors: this.nv.fusSectors, sram2aKb: 4, sram2bKb: 4 }, 0),
      wirelessStackVersion: s ? s.version : none,
      wirelessStackMemorySize: s
        ? encodeMemorySize({ flashSectors: s.sectors, sram2aKb: s.sram2aKb, sram2bKb: s.sram2bKb }, 0)
        : none,
      wirelessFwBleInfo: s ? s.info1 : none,
      wirelessFwThreadInfo: s ? s.info2 : none,
      uid64: uid64Of(this.device.serial),
      deviceId: this.device.profile.pid,
    });
    const v = new DataView(sram.buffer, sram.byteOffset, sram.byteLength);
    v.setUint32(SRAM2A_BASE - base, DEVICE_INFO_TABLE_ADDRESS, true);
    sram.set(table, DEVICE_INFO_TABLE_ADDRESS - base);
  }

  #log(detail: string): void {
    this.device.log("fus", detail);
  }
}

function encodeVersionOf(f: ImageFooter): number {
  return encodeVersion(f.version);
}

function formatVersionOf(f: ImageFooter): string {
  return `${f.version.major}.${f.version.minor}.${f.version.sub}`;
}

/** Image footer magics FUS recognises (Table 14 and those of ST's shipped files). */
const IMAGE_MAGICS = [FusMagic.WIRELESS_STACK, FusMagic.WIRELESS_STACK_V2, FusMagic.FUS, FusMagic.SAFEBOOT];

/** Sectors a "FUSv2 only" stack leaves free below the FUS area (release notes: 0x080F0000 vs 0x080F4000). */
const FUSV2_RESERVED_SECTORS = (FUS_AREA_1MB - 0x080f_0000) / PAGE;

/** UID64 from the USB serial (hex digits of the unique ID); 0 when it is not hex. */
function uid64Of(serial: string): bigint {
  return /^[0-9a-fA-F]{1,16}$/.test(serial) ? BigInt(`0x${serial}`) : 0n;
}
