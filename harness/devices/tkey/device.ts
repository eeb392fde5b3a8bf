/**
 * The emulated TKey: the firmware state machine behind a USB CDC serial port.
 *
 * - Power on = plug in: after the boot time a port can be opened (`port("tkey")`), a fresh
 *   in-memory pair per open, served event-driven on the device end.
 * - Power off = unplug: the port closes under the host (a disconnect), RAM is gone, and
 *   the next power-on starts the firmware again. That is the only way out of a halt.
 * - Every byte costs 10 bit times at 62500 baud in both directions, on the board's clock;
 *   each answered frame its `frameMs`, the last chunk the hash of the app (`hashMsPerKb`),
 *   the app's start `appStartMs` after that reply (TKeyTiming; `options.timing` overlays it).
 * - Faults (FaultPlan events, k-th occurrence since the device was created):
 *     tkey.rx.byte#n      a byte from the host: serial-drop, serial-corrupt, bit-flip, power-cut
 *     tkey.tx.byte#n      a byte to the host: the same
 *     tkey.chunk.received#k  a LOAD_APP_DATA arrived: bit-flip hits its app data before RAM
 *     tkey.chunk.acked#k     its reply was sent: power-cut ("power cut after chunk k")
 *   `counters` says how many of each happened, to arm "the k-th from now".
 */
import { udsBytes } from "../../protocol/tkey/index.js";
import { type ErrorCategory, HilError } from "../../seams/errors.js";
import type { Fault } from "../../sim/faults.js";
import { PowerLostError } from "../../sim/power.js";
import type { Random } from "../../sim/random.js";
import { createBytePair, type DeviceEnd, type HostEnd } from "../../transport/byte-pair.js";
import { toHex } from "../../transport/hex.js";
import { EmulatedDevice, type EmulatorContext } from "../emulated-device.js";
import { MisbehavingWriter, Misbehaviour, misbehaveOf } from "../misbehave.js";
import type { AppBehaviour } from "./app.js";
import { type FirmwareOutcome, type LoadedApp, TKeyFirmware } from "./firmware.js";
import { parseTKeyOptions, type TKeyIdentity, trapRestartsOf } from "./options.js";
import { type TKeyProfile, type TKeyTiming, tkeyProfile } from "./profiles.js";
import { tkeyTiming } from "./timing-overlay.js";

export class TKeyAbsentError extends HilError {
  static override readonly category: ErrorCategory = "infrastructure";
  override name = "TKeyAbsentError";
}

export interface TKeyCounters {
  rxBytes: number;
  txBytes: number;
  /** LOAD_APP_DATA frames received (the `tkey.chunk.*` occurrence numbers). */
  chunks: number;
}

export class TKeyDevice extends EmulatedDevice {
  readonly family = "tkey";
  readonly serial: string;
  readonly profile: TKeyProfile;
  readonly tkeyIdentity: TKeyIdentity;
  /** Device time per byte, frame, hash and boot: the defaults or a calibration's figures. */
  readonly timing: TKeyTiming;
  readonly counters: TKeyCounters = { rxBytes: 0, txBytes: 0, chunks: 0 };
  /** The app lives in RAM: the TKey has no flash of its own. */
  readonly flash = undefined;
  readonly #apps = new Map<string, AppBehaviour>();
  readonly #line: Random;
  /** The QEMU personality: a trap restarts the firmware instead of halting it (options.ts). */
  readonly #trapRestarts: boolean;
  #firmware: TKeyFirmware | undefined;
  #link: DeviceEnd | undefined;
  #inbox: Uint8Array[] = [];
  /** Power epoch of the worker draining the inbox, if one runs. */
  #worker: number | undefined;
  /** Host bytes still to swallow for a multi-byte serial-drop. */
  #dropping = 0;
  /** The `misbehave` personality of the replies, when the options ask for it. */
  readonly #misbehave: MisbehavingWriter | undefined;

  constructor(ctx: EmulatorContext) {
    super(ctx, []);
    const base = tkeyProfile(ctx.profile);
    this.tkeyIdentity = parseTKeyOptions(base, ctx.options ?? {}, ctx.seed);
    this.timing = tkeyTiming(ctx.options?.timing);
    this.#trapRestarts = trapRestartsOf(ctx.options ?? {});
    const overlay = ctx.options?.timing as Record<string, number> | undefined;
    if (overlay)
      this.log(
        "timing",
        `overlay ${Object.entries(overlay)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")}`,
      );
    this.profile = { ...base, appMaxSize: this.tkeyIdentity.appMaxSize };
    this.serial = ctx.serial ?? this.tkeyIdentity.udiWords[1].toString(16).padStart(8, "0");
    this.#line = this.faults.random.fork("tkey line");
    this.definePort("tkey", () => this.#openPort());
    const misbehave = misbehaveOf(ctx.options);
    this.#misbehave =
      misbehave &&
      new MisbehavingWriter(new Misbehaviour(misbehave, "tkey"), {
        write: (bytes) => this.#writeLine(bytes),
        sleep: (ms) => this.clock.sleep(ms),
        // A TKey has no reset line: it resets when its USB power goes, the port with it.
        reset: () => void this.reset("misbehave: reset mid-reply"),
        // The header's "not OK" bit (framing protocol: bit 2), or a reply's status byte turned bad.
        status: (bytes, random) => {
          if (bytes.length < 3) return undefined;
          const out = bytes.slice();
          if (random.below(2) === 0) out[0]! ^= 0x04;
          else out[2]! ^= 0x01;
          return out;
        },
        log: (detail) => this.log("misbehave", detail),
      });
  }

  /** For report labels: the release and the identity the firmware reports. */
  override identity(): Record<string, string> {
    const [w0, w1] = this.tkeyIdentity.udiWords;
    return {
      profile: this.profile.name,
      firmware: String(this.profile.version),
      udi: `${w0.toString(16).padStart(8, "0")}${w1.toString(16).padStart(8, "0")}`,
    };
  }

  /** The firmware of this power-on; undefined while off or booting. */
  get firmware(): TKeyFirmware | undefined {
    return this.#firmware;
  }

  /** "INITIAL", "LOADING", "RUN", "FAIL" (Castor: "WAITCOMMAND", "START", ...), or "off". */
  get state(): string {
    return this.#firmware?.stateName ?? "off";
  }

  /** The app running now, with its digest and the CDI the firmware computed for it. */
  get app(): LoadedApp | undefined {
    return this.#firmware?.app;
  }

  get cdi(): Uint8Array | undefined {
    return this.app?.cdi;
  }

  /** A TypeScript stand-in for the app with this digest (it answers app commands). */
  registerApp(digest: Uint8Array, behaviour: AppBehaviour): void {
    this.#apps.set(toHex(digest), behaviour);
  }

  /**
   * Opens the TKey's serial port: the host end of a new line. A port opened before is
   * closed, as only one process holds a tty at a time.
   * @throws {TKeyAbsentError} while unplugged (powered off) or not yet enumerated.
   */
  #openPort(): HostEnd {
    if (!this.#firmware)
      throw new TKeyAbsentError(
        `TKey ${this.serial} is not present (power ${this.power.isOn ? "on, booting" : "off"})`,
      );
    void this.#link?.close();
    const pair = createBytePair({ clock: this.clock, name: `tkey-${this.serial}` });
    const device = pair.device;
    this.#link = device;
    device.onData((bytes) => this.#receive(device, bytes));
    device.onClose(() => {
      if (this.#link === device) this.#link = undefined;
    });
    return pair.host;
  }

  protected override async boot(): Promise<void> {
    const epoch = this.power.epoch;
    await this.busy(epoch, this.timing.bootMs);
    this.#firmware = new TKeyFirmware(
      this.profile,
      { uds: udsBytes(this.tkeyIdentity.udsWords), udiWords: this.tkeyIdentity.udiWords },
      {
        onChunk: (_index, data) => this.#chunkReceived(data),
        appFor: (digest) => this.#apps.get(toHex(digest)),
      },
      { trapRestarts: this.#trapRestarts },
    );
    this.log("state", `${this.profile.name} firmware v${this.profile.version}: ${this.state}`);
    this.noteState();
  }

  protected override onPowerLost(): void {
    this.#firmware = undefined;
    this.noteState();
    this.#inbox = [];
    this.#dropping = 0;
    this.#worker = undefined;
    const link = this.#link;
    this.#link = undefined;
    void link?.close();
  }

  #receive(link: DeviceEnd, bytes: Uint8Array): void {
    if (link !== this.#link || !this.#firmware) return;
    this.#inbox.push(bytes);
    if (this.#worker === undefined) void this.#work(this.power.epoch);
  }

  /** One byte at a time through the firmware, replying in order; one worker per power-on. */
  async #work(epoch: number): Promise<void> {
    this.#worker = epoch;
    let frameBytes = 0;
    try {
      while (this.#inbox.length > 0) {
        const chunk = this.#inbox.shift()!;
        for (const raw of chunk) {
          this.power.assertEpoch(epoch);
          const byte = this.#lineIn(raw);
          this.power.assertEpoch(epoch); // a line fault may have been a power cut
          if (byte === undefined) continue;
          frameBytes++;
          const outcome = this.#firmware!.receive(byte);
          if (!outcome) continue;
          this.noteState();
          await this.#act(epoch, outcome, frameBytes);
          frameBytes = 0;
        }
      }
    } catch (e) {
      if (!(e instanceof PowerLostError)) throw e;
    } finally {
      if (this.#worker === epoch) this.#worker = undefined;
    }
  }

  async #act(epoch: number, outcome: FirmwareOutcome, bytesIn: number): Promise<void> {
    if (outcome.kind === "halt") {
      const after = outcome.restarted ? "the trap restarted the firmware" : "silent until power-cycled";
      this.log("state", `${this.state}: ${outcome.reason}; ${after}`);
      return;
    }
    if (outcome.kind === "ignored") {
      this.log("app", outcome.reason);
      return;
    }
    const t = this.timing;
    const started = this.#firmware?.role === "running" && outcome.command === "FW_CMD_LOAD_APP_DATA";
    // The digest in the last chunk's reply is computed first, over the whole app.
    const hashMs = started ? (t.hashMsPerKb * this.app!.size) / 1024 : 0;
    // The command's bytes and the reply's cross the 62500-baud UART before the host has the reply.
    await this.busy(epoch, (bytesIn + outcome.frame.length) * t.byteMs + t.frameMs + hashMs);
    const out = this.#lineOut(outcome.frame);
    if (out.length > 0) await (this.#misbehave ? this.#misbehave.write(out) : this.#writeLine(out));
    if (outcome.chunk !== undefined) this.#faults(this.event("tkey.chunk.acked"), "tkey.chunk.acked");
    if (started) {
      this.log(
        "state",
        `${this.state}: app ${toHex(this.app!.digest).slice(0, 16)}… (${this.app!.behaviour.name})`,
      );
      // The CDI and the jump: frames meanwhile wait in the inbox for the app.
      if (t.appStartMs > 0) await this.busy(epoch, t.appStartMs);
    }
    this.power.assertEpoch(epoch);
  }

  #chunkReceived(data: Uint8Array): void {
    this.counters.chunks++;
    for (const f of this.event("tkey.chunk.received")) {
      if (f.what.do !== "bit-flip") continue;
      for (let i = 0; i < (f.what.bits ?? 1); i++) {
        const at = this.#line.below(data.length);
        const bit = this.#line.below(8);
        data[at]! ^= 1 << bit;
        this.log("fault", `bit ${bit} of app byte ${at} in chunk ${this.counters.chunks} flipped in transit`);
      }
    }
  }

  /** Line faults on a host byte; undefined when the byte is lost. */
  #lineIn(byte: number): number | undefined {
    this.counters.rxBytes++;
    const faults = this.event("tkey.rx.byte");
    if (this.#dropping > 0) {
      this.#dropping--;
      return undefined;
    }
    return this.#applyLineFaults(byte, faults, "host byte", (n) => {
      this.#dropping = n - 1;
    });
  }

  async #writeLine(bytes: Uint8Array): Promise<void> {
    await this.#link?.write(bytes).catch(() => {});
  }

  #lineOut(frame: Uint8Array): Uint8Array {
    const out: number[] = [];
    let drop = 0;
    for (const byte of frame) {
      this.counters.txBytes++;
      const faults = this.event("tkey.tx.byte");
      if (drop > 0) {
        drop--;
        continue;
      }
      const b = this.#applyLineFaults(byte, faults, "device byte", (n) => {
        drop = n - 1;
      });
      if (b !== undefined) out.push(b);
    }
    return Uint8Array.from(out);
  }

  #applyLineFaults(
    byte: number,
    faults: Fault[],
    what: string,
    dropMore: (n: number) => void,
  ): number | undefined {
    let b = byte;
    for (const f of faults) {
      if (f.what.do === "serial-drop") {
        dropMore(f.what.bytes ?? 1);
        this.log("fault", `${what} 0x${hex(byte)} dropped on the line`);
        return undefined;
      }
      if (f.what.do === "serial-corrupt") {
        b ^= 1 + this.#line.below(255);
        this.log("fault", `${what} 0x${hex(byte)} corrupted to 0x${hex(b)}`);
      } else if (f.what.do === "bit-flip") {
        b ^= 1 << this.#line.below(8);
        this.log("fault", `${what} 0x${hex(byte)} bit-flipped to 0x${hex(b)}`);
      }
    }
    return b;
  }

  #faults(rest: Fault[], event: string): void {
    for (const f of rest) this.log("fault", `${event}: ${f.what.do} has no effect here`);
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0");
}
