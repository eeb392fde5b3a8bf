import { type CancellableSleep, cancellableSleep } from "../seams/clock.js";
import { type DeviceEvent, MAX_EVENTS } from "../seams/device-log.js";
import { BoundedLog } from "../sim/bounded-log.js";
import { type Fault, FaultPlan, formatWhat } from "../sim/faults.js";
import { type Flash, PowerCutError } from "../sim/flash.js";
import { PowerLostError, SimPower } from "../sim/power.js";
import type { HostEnd } from "../transport/byte-pair.js";
import type { Clock } from "../transport/clock.js";

// Layer-0 types (reports read them without importing emulators); re-exported for existing imports.
export { type DeviceEvent, MAX_EVENTS };

/** What every emulator gets from the rig that builds it. */
export interface EmulatorContext<O = Record<string, unknown>> {
  clock: Clock;
  /** Fixes every random choice of this device (torn contents, line faults). */
  seed: number;
  faults?: readonly Fault[];
  serial?: string;
  profile?: string;
  /** The rig file's `emulated.options` (or a test's): what each family reads from it is its options type. */
  options?: O;
}

/** Serial lines a board offers the host: a USART's pins, a DK's console, the TKey's CDC port. */
export type PortName = "usart" | "console" | "tkey";

/** How the host opened a serial line: a device that auto-bauds (the STM32 ROM) times its bytes at this rate. */
export interface PortOpenOptions {
  readonly baudRate?: number | undefined;
}

export type StateListener<S extends string> = (state: S, previous: S) => void;

/**
 * Common ground of the emulated boards: one clock, one power rail feeding the flashes,
 * one fault plan, and an event log (states, resets, faults on the device's time axis)
 * that reports turn into a timeline.
 *
 * Device code that runs while powered goes through `powered(work)`: a flash power cut or
 * a power-off in the middle ends the work with PowerLostError and nothing of it survives.
 */
export abstract class EmulatedDevice<S extends string = string, O = Record<string, unknown>> {
  abstract readonly family: string;
  /** USB serial number / UDI the device reports. */
  abstract readonly serial: string;
  /** The main flash (where the application lives); undefined on a board without one (TKey). */
  abstract readonly flash: Flash | undefined;
  /** What the board is doing now ("off", "bootloader", "running", ...); {@link onState} follows it. */
  abstract get state(): S;
  /** The emulator options it was built with (EmulatorContext.options). */
  readonly options: Readonly<O>;
  readonly clock: Clock;
  readonly seed: number;
  readonly faults: FaultPlan;
  readonly power: SimPower;
  readonly #events = new BoundedLog<DeviceEvent>(MAX_EVENTS);
  readonly #flashes: readonly Flash[];
  // Typed by `string`, not S, so that a board of any family is an EmulatedDevice.
  readonly #stateListeners = new Set<StateListener<string>>();
  /** The state listeners last heard; undefined until the first {@link noteState}. */
  #noted: string | undefined;
  readonly #ports = new Map<PortName, (opts: PortOpenOptions) => HostEnd>();
  /** The wake-up for the earliest pending `time:MS` fault, on the device clock. */
  #timeFault: CancellableSleep | undefined;

  constructor(ctx: EmulatorContext<O>, flashes: readonly Flash[]) {
    this.options = { ...ctx.options } as O;
    this.clock = ctx.clock;
    this.seed = ctx.seed;
    this.faults = new FaultPlan(ctx.faults ?? [], ctx.seed);
    this.#flashes = flashes;
    for (const flash of flashes) {
      flash.setFaultHook((op) => this.faults.onFlashOp(op, this.clock.now()));
    }
    this.power = new SimPower(this.clock, flashes, {
      lost: (reason, event) => {
        if (event !== "reset") this.log("power", `${event}: ${reason}`);
        this.onPowerLost();
      },
      boot: () => this.powered(() => this.boot()).catch((e) => this.swallowPowerLoss(e)),
    });
    this.faults.onChange(() => this.#armTimeFaults());
    this.#armTimeFaults();
  }

  /**
   * `time:MS=power-cut`: the rail drops at MS of device time, whatever the board is doing
   * then (the fault plan refuses any other fault at a time).
   */
  #armTimeFaults(): void {
    const armed = this.#timeFault;
    this.#timeFault = undefined;
    armed?.cancel();
    const next = this.faults.nextTimeFault();
    if (next === undefined) return;
    const wake = cancellableSleep(this.clock, Math.max(0, next - this.clock.now()));
    this.#timeFault = wake;
    void wake.done.then(() => {
      if (this.#timeFault !== wake) return; // disarmed: the plan changed
      this.#timeFault = undefined;
      for (const f of this.faults.dueAt(this.clock.now())) {
        this.log("fault", `time ${(f.where as { ms: number }).ms} ms: ${formatWhat(f.what)}`);
        if (this.power.isOn) this.power.lose(`fault at time ${(f.where as { ms: number }).ms} ms`);
      }
      this.#armTimeFaults();
    });
  }

  /** Record a device event with device time. A board lives for a whole run: the log keeps the newest. */
  log(kind: string, detail: string): void {
    this.#events.push({ t: this.clock.now(), kind, detail });
  }

  /** The newest events, oldest first (at most {@link MAX_EVENTS}; older ones are dropped). */
  get events(): readonly DeviceEvent[] {
    return this.#events.items;
  }

  /** How many events were ever logged: a mark for {@link eventsSince} that survives dropping. */
  get eventCount(): number {
    return this.#events.count;
  }

  /** The events logged since `mark` (an earlier eventCount), and how many of those were dropped. */
  eventsSince(mark: number): { events: readonly DeviceEvent[]; dropped: number } {
    const { items, dropped } = this.#events.since(mark);
    return { events: items, dropped };
  }

  /**
   * Run device work under the current power epoch. A PowerCutError from flash turns into a
   * power loss of the whole board; afterwards the work's promise rejects with PowerLostError.
   */
  async powered<T>(work: (epoch: number) => Promise<T>): Promise<T> {
    const epoch = this.power.epoch;
    this.power.assertEpoch(epoch);
    try {
      return await work(epoch);
    } catch (e) {
      if (e instanceof PowerCutError) {
        this.log("fault", e.message);
        this.power.lose(e.message);
        throw new PowerLostError(epoch);
      }
      throw e;
    }
  }

  /** Wait on device time, then fail if power went away meanwhile. */
  async busy(epoch: number, ms: number): Promise<void> {
    await this.clock.sleep(ms);
    this.power.assertEpoch(epoch);
  }

  /** Apply the plan's faults for a protocol event; returns those the device must act on itself. */
  event(name: string): Fault[] {
    const due = this.faults.onEvent(name, this.clock.now());
    if (due.length === 0) return due; // the usual case, once per USB request
    const rest: Fault[] = [];
    for (const f of due) {
      this.log("fault", `${name}: ${formatWhat(f.what)}`);
      if (f.what.do === "power-cut") this.power.lose(`fault at event ${name}`);
      else rest.push(f);
    }
    return rest;
  }

  /** Reset line pulsed: RAM is lost, flash and power stay; the device boots again. */
  async reset(reason = "reset line"): Promise<void> {
    this.log("reset", reason);
    await this.power.reset(reason);
  }

  /**
   * Boot-mode selection (BOOT0 and the like) for devices that have a ROM bootloader;
   * absent on devices that have none, so the rig offers no boot control for them.
   */
  selectBoot?(mode: "bootloader" | "application"): Promise<void>;

  get flashes(): readonly Flash[] {
    return this.#flashes;
  }

  /** Called at every change of {@link state} with the new and the previous one; returns an unsubscribe. */
  onState(listener: StateListener<S>): () => void {
    const l = listener as StateListener<string>;
    this.#stateListeners.add(l);
    return () => this.#stateListeners.delete(l);
  }

  /** Device code calls this wherever the state may have changed; listeners hear only real changes. */
  protected noteState(): void {
    const state: string = this.state;
    const previous = this.#noted ?? "off";
    this.#noted = state;
    if (state === previous) return;
    for (const l of this.#stateListeners) l(state, previous);
  }

  /**
   * The host side of one of the board's serial lines (what a USB-serial adapter or the
   * board's CDC port gives a host program), opened as `opts` say.
   * @throws {Error} naming the port and the ports the board has.
   */
  port(name: PortName, opts: PortOpenOptions = {}): HostEnd {
    const open = this.#ports.get(name);
    if (!open) {
      const has = [...this.#ports.keys()];
      throw new Error(
        `emulated ${this.family} board ${this.serial} has no '${name}' port (${has.length ? `ports: ${has.join(", ")}` : "it has no serial port"})`,
      );
    }
    return open(opts);
  }

  /** The serial lines {@link port} opens. */
  get portNames(): readonly PortName[] {
    return [...this.#ports.keys()];
  }

  /** Subclasses declare their serial lines here, in the constructor. */
  protected definePort(name: PortName, open: (opts: PortOpenOptions) => HostEnd): void {
    this.#ports.set(name, open);
  }

  /** Versions and identities the device reports (bootloader version, PID, ...), for report labels. */
  identity(): Record<string, string> {
    return {};
  }

  /** Boot sequence after power-on (ROM, bootloader, application). */
  protected abstract boot(): Promise<void>;

  /** Drop RAM state and in-flight links. */
  protected abstract onPowerLost(): void;

  private swallowPowerLoss(e: unknown): void {
    // A cut during boot is a legitimate outcome, not an error of the power-on call.
    if (!(e instanceof PowerLostError)) throw e;
  }
}
