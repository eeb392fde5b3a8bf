import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import {
  formatVersion,
  type ParsedImage,
  type PublicKey,
  parsePemKey,
  publicOf,
} from "../../protocol/mcuboot/index.js";
import { Flash } from "../../sim/flash.js";
import { PowerLostError } from "../../sim/power.js";
import { createBytePair, type DeviceEnd, type HostEnd } from "../../transport/byte-pair.js";
import { EmulatedDevice, type EmulatorContext } from "../emulated-device.js";
import { misbehaveOf } from "../misbehave.js";
import { bootDecide } from "./bootloader.js";
import { FlashArea } from "./flash-area.js";
import { ImgMgmt } from "./img-mgmt.js";
import { MisbehavingSmp } from "./misbehaving-smp.js";
import { osHandlers } from "./os-mgmt.js";
import {
  type McubootLayout,
  NRF52840_FLASH,
  type Nrf52840Timing,
  PROFILES,
  parseSwapMode,
  SMP_SERVER_PARAMS,
  type SwapMode,
} from "./profile.js";
import { RECOVERY_MAX_RECEIVE, SerialRecovery } from "./serial-recovery.js";
import { type SmpFlavour, type SmpHandler, SmpSerialServer } from "./smp-server.js";
import { nrf52840Timing } from "./timing-overlay.js";

const REPO_ROOT = join(import.meta.dirname, "..", "..", "..");
/** A rig option's file: as given when it exists from here (a team's own), else update-hil's own (its fixtures, also in dist/). */
const repoPath = (p: string): string => (isAbsolute(p) || existsSync(p) ? p : join(REPO_ROOT, p));

export type Nrf52840State = "off" | "bootloader" | "recovery" | "running" | "no-image";

export interface Nrf52840Options {
  /** Provisioned public keys (MCUboot's built-in keys); or `key`, PEM file paths (one or a list). */
  keys?: readonly PublicKey[];
  key?: string | readonly string[];
  downgradePrevention?: boolean;
  /**
   * Upgrade method: "swap-using-move" (default), "swap-using-scratch" or "overwrite-only"
   * ("move" and "scratch" for short).
   */
  mode?: SwapMode | "swap-using-move" | "swap-using-scratch";
  /** A signed image file (relative to the repository) programmed into the primary slot at manufacture. */
  image?: string;
  /** Stay in serial recovery when no valid primary image is found (else MCUboot hangs). */
  recoveryWhenNoImage?: boolean;
  /**
   * The app's CONFIG_MCUMGR_GRP_IMG_ALLOW_ERASE_PENDING (Zephyr's default: true): uploads and
   * erases may replace a secondary set for the next boot. False: NO_FREE_SLOT instead.
   */
  allowErasePending?: boolean;
  /**
   * The app has SMP's bootloader information command (CONFIG_MCUMGR_GRP_OS_BOOTLOADER_INFO,
   * default true); false: it answers MGMT_ERR_ENOTSUP, as apps built without it (or on an older Zephyr) do.
   */
  bootloaderInfo?: boolean;
  /** The misbehaving personality: "SEED" or "SEED:RATE" (harness/devices/misbehave.ts). */
  misbehave?: string | number | { seed: number; rate?: number };
  /** Timing figures replacing the datasheet's (a calibration from a real board): timing-overlay.ts keys. */
  timing?: Partial<Nrf52840Timing>;
}

/**
 * An nRF52840 running MCUboot (swap-using-move, one image, two slots) and a Zephyr
 * application with the SMP server on its console UART. The UART goes through the DK's
 * interface MCU, so the host's serial port survives resets of the nRF52840; what the core
 * receives while it is off or booting is lost.
 */
export class Nrf52840McubootDevice extends EmulatedDevice<Nrf52840State, Nrf52840Options> {
  readonly family = "nrf52840";
  readonly serial: string;
  readonly flash: Flash;
  readonly layout: McubootLayout;
  readonly primary: FlashArea;
  readonly secondary: FlashArea;
  readonly scratch: FlashArea;
  /** The console UART's host end, handed out by `port("console")`. */
  readonly #host: HostEnd;
  readonly #device: DeviceEnd;
  #keys: PublicKey[];
  readonly #downgradePrevention: boolean;
  readonly #recoveryWhenNoImage: boolean;
  readonly #allowErasePending: boolean;
  readonly #bootloaderInfo: boolean;
  readonly mode: SwapMode;
  /** Device times: the datasheet's, or the board's `timing` overlay. */
  readonly timing: Nrf52840Timing;
  /** The DK's button held at reset: MCUboot enters serial recovery before any swap. */
  #recoveryButton = false;
  #state: Nrf52840State = "off";
  #running: ParsedImage | undefined;
  #server: SmpSerialServer | undefined;
  /** The `misbehave` personality of the SMP replies, one for the board's life. */
  readonly #misbehave: MisbehavingSmp | undefined;
  #failures: unknown[] = [];

  constructor(ctx: EmulatorContext<Nrf52840Options>) {
    const flash = new Flash(
      {
        base: NRF52840_FLASH.base,
        sectors: [{ size: NRF52840_FLASH.pageSize, count: NRF52840_FLASH.pageCount }],
        programUnit: NRF52840_FLASH.writeSize,
      },
      { seed: ctx.seed, name: "nrf52840 flash" },
    );
    super(ctx, [flash]);
    this.flash = flash;
    this.serial = ctx.serial ?? "000683000001";
    const profile = ctx.profile ?? "nrf52840dk-mcuboot";
    const layout = PROFILES[profile];
    if (!layout)
      throw new Error(`nrf52840: unknown profile '${profile}' (known: ${Object.keys(PROFILES).join(", ")})`);
    this.layout = layout;
    const timing = nrf52840Timing(this.options.timing);
    this.timing = timing;
    const busy = (ms: number) => this.busy(this.power.epoch, ms);
    this.primary = new FlashArea(flash, layout.primary, "primary", busy, timing);
    this.secondary = new FlashArea(flash, layout.secondary, "secondary", busy, timing);
    this.scratch = new FlashArea(flash, layout.scratch, "scratch", busy, timing);
    const pair = createBytePair({ clock: ctx.clock, name: `nrf52840:${this.serial}` });
    this.#host = pair.host;
    this.#device = pair.device;
    // Behind the DK's interface MCU: one host end for the board's life, across resets.
    this.definePort("console", () => this.#host);
    const opts = this.options;
    this.#keys = [...(opts.keys ?? [])];
    // A list lets a team's rig trust its own development key beside update-hil's test key.
    for (const key of typeof opts.key === "string" ? [opts.key] : (opts.key ?? []))
      this.#keys.push(publicOf(parsePemKey(readFileSync(repoPath(key), "utf8"), key)));
    this.#downgradePrevention = opts.downgradePrevention === true;
    this.#recoveryWhenNoImage = opts.recoveryWhenNoImage === true;
    this.#allowErasePending = opts.allowErasePending !== false;
    this.#bootloaderInfo = opts.bootloaderInfo !== false;
    this.mode = parseSwapMode(opts.mode ?? "move");
    const misbehave = misbehaveOf(opts as Readonly<Record<string, unknown>>);
    this.#misbehave =
      misbehave &&
      new MisbehavingSmp(misbehave, {
        write: (bytes) => (this.#device.closed ? Promise.resolve() : this.#device.write(bytes)),
        sleep: (ms) => this.clock.sleep(ms),
        reset: () => void this.reset("misbehave: reset mid-reply").catch((e) => this.#failures.push(e)),
        log: (detail) => this.log("misbehave", detail),
      });
    if (typeof opts.image === "string")
      this.program(layout.primary.offset, new Uint8Array(readFileSync(repoPath(opts.image))));
  }

  get state(): Nrf52840State {
    return this.#state;
  }

  /** The image that booted, if one did. */
  get running(): ParsedImage | undefined {
    return this.#running;
  }

  get runningVersion(): string | undefined {
    return this.#running && formatVersion(this.#running.header.version);
  }

  /** Errors the SMP server hit that were not power losses (a test should see none). */
  get failures(): readonly unknown[] {
    return this.#failures;
  }

  /** Replace the provisioned keys (what building MCUboot with another key file does). */
  provision(keys: readonly PublicKey[]): void {
    this.#keys = [...keys];
  }

  override identity(): Record<string, string> {
    return {
      bootloader: `mcuboot ${this.mode === "overwrite-only" ? "overwrite-only" : `swap-${this.mode}`} (emulated)`,
      "flash-page": "4096",
    };
  }

  /** Factory programming over SWD: write bytes at an absolute address without flash operations or time. */
  program(address: number, data: Uint8Array): void {
    this.flash.load(address, data);
  }

  /** Button 1 held ("bootloader": serial recovery at every boot) or released; takes effect at the next boot. */
  override async selectBoot(mode: "bootloader" | "application"): Promise<void> {
    this.#recoveryButton = mode === "bootloader";
    this.log("boot", `recovery button ${this.#recoveryButton ? "held" : "released"}`);
  }

  protected override onPowerLost(): void {
    this.#server?.stop();
    this.#server = undefined;
    this.#running = undefined;
    this.#setState("off");
  }

  protected override async boot(): Promise<void> {
    const epoch = this.power.epoch;
    this.#setState("bootloader");
    await this.busy(epoch, this.timing.bootloaderMs);
    if (this.#recoveryButton) return this.#startRecovery(epoch);
    const outcome = await bootDecide(
      this.primary,
      this.secondary,
      { keys: this.#keys, downgradePrevention: this.#downgradePrevention, mode: this.mode },
      (detail) => this.log("mcuboot", detail),
      this.scratch,
    );
    if (outcome.kind === "no-image") {
      this.log("mcuboot", `no bootable image: ${outcome.reason}`);
      if (this.#recoveryWhenNoImage) return this.#startRecovery(epoch);
      this.#setState("no-image");
      return;
    }
    this.#running = outcome.image;
    this.#setState("running");
    this.#startServer(epoch);
  }

  #startRecovery(epoch: number): void {
    this.#setState("recovery");
    const recovery = new SerialRecovery(
      this.primary,
      this.secondary,
      this.mode,
      () => this.#keys,
      () => this.#scheduleReset(epoch),
      (d) => this.log("mcuboot", d),
    );
    this.#serve(recovery.handlers(), RECOVERY_MAX_RECEIVE, "mcuboot");
  }

  #startServer(epoch: number): void {
    const img = new ImgMgmt({
      primary: this.primary,
      secondary: this.secondary,
      allowErasePending: this.#allowErasePending,
      // Only a calibrated board's line takes time: the datasheet board's answers as it did.
      ...(this.timing.uploadByteMs > 0
        ? { lineMs: (bytes: number) => this.busy(epoch, bytes * this.timing.uploadByteMs) }
        : {}),
      log: (d) => this.log("smp", d),
      event: (name) => {
        this.event(name);
        // A power cut planned at this event ends the request here: no answer goes out.
        this.power.assertEpoch(epoch);
      },
    });
    const handlers = new Map([
      ...img.handlers(),
      ...osHandlers(() => this.#scheduleReset(epoch), {
        mode: this.mode,
        noDowngrade: this.#downgradePrevention,
        infoCommand: this.#bootloaderInfo,
      }),
    ]);
    this.#serve(handlers, SMP_SERVER_PARAMS.bufSize, "zephyr");
  }

  #serve(handlers: Map<string, SmpHandler>, maxPacket: number, flavour: SmpFlavour): void {
    const wrapped = new Map(
      [...handlers].map(
        ([k, h]) => [k, (req: Parameters<typeof h>[0]) => this.powered(() => h(req))] as const,
      ),
    );
    this.#server = new SmpSerialServer(
      this.#device,
      wrapped,
      maxPacket,
      (e) => {
        if (!(e instanceof PowerLostError)) {
          this.#failures.push(e);
          this.log("fault", `smp server: ${(e as Error).message}`);
        }
      },
      flavour,
      () => this.#admitFrame(),
      this.#misbehave,
    );
    this.#server.start();
  }

  /** Line faults act on whole frames: a dropped or corrupted byte makes the firmware drop the frame. */
  #admitFrame(): boolean {
    const rest = this.event("smp.rx.frame");
    return !rest.some((f) => f.what.do === "serial-drop" || f.what.do === "serial-corrupt");
  }

  #scheduleReset(epoch: number): void {
    void this.clock.sleep(this.timing.smpResetDelayMs).then(async () => {
      if (this.power.epoch !== epoch || (this.#state !== "running" && this.#state !== "recovery")) return;
      await this.reset("SMP os reset").catch((e) => this.#failures.push(e));
    });
  }

  #setState(state: Nrf52840State): void {
    if (state === this.#state && state === "off") return;
    this.#state = state;
    this.log("state", state);
    this.noteState();
  }
}
