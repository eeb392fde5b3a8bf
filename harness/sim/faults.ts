import { DfuStatus, type DfuStatusName } from "../protocol/dfu/states.js";
import { type ErrorCategory, HilError } from "../seams/errors.js";
import { DFU_STATUS_PREFIX, type FaultWhere, formatFault, formatWhat } from "../seams/faults-format.js";
import type { FlashOpKind } from "../seams/flash-view.js";
import { BoundedLog } from "./bounded-log.js";
import type { FlashFaultAction, FlashOp } from "./flash.js";
import { Random } from "./random.js";

/**
 * Fault plans: *where* × *what*, as plain data so a plan can be written in a rig file,
 * passed on the command line, attached to a report and replayed with its seed.
 *
 * Flash-level faults only exist in emulators. Protocol-event faults fire from client
 * events too, so on a lab rig the rig's power backend can cut at "after DNLOAD block 37".
 */

export type FaultWhat =
  | { do: "power-cut"; torn?: boolean }
  | { do: "usb-stall" }
  | { do: "usb-disconnect" }
  | { do: "serial-drop"; bytes?: number }
  | { do: "serial-corrupt"; bytes?: number }
  | { do: "flash-fail" }
  | { do: "bit-flip"; bits?: number }
  /**
   * An emulated DFU device fails the operation at this event with DFU 1.1 bStatus `status`
   * (not performed; the GETSTATUS that reports its result says dfuERROR with it). Models a
   * DFU 1.1 device in general, not a documented STM32 ROM behaviour. Text: `dfu-status-errPROG`.
   */
  | { do: "dfu-status"; status: DfuStatusName };

export interface Fault {
  where: FaultWhere;
  what: FaultWhat;
}

export interface FiredFault {
  fault: Fault;
  /** Device time when it fired. */
  t: number;
  /** What exactly was hit: "flash op 37 (program 0x08004000+2048)", "event dfu.dnload.block #3". */
  detail: string;
}

export class FaultPlanError extends HilError {
  static override readonly category: ErrorCategory = "usage";
  override name = "FaultPlanError";
}

const WHAT_NAMES = [
  "power-cut",
  "usb-stall",
  "usb-disconnect",
  "serial-drop",
  "serial-corrupt",
  "flash-fail",
  "bit-flip",
  "dfu-status",
];

/** A failure status: every DFU 1.1 bStatus name except OK. */
function isFailureStatus(name: string): name is DfuStatusName {
  return name !== "OK" && Object.hasOwn(DfuStatus, name);
}

/** The most fired faults a plan keeps (a run-wide `--fault` fires once per matching event); past it the oldest half goes. */
export const MAX_FIRED = 10_000;

export class FaultPlan {
  readonly #faults: Fault[];
  readonly random: Random;
  readonly #fired = new BoundedLog<FiredFault>(MAX_FIRED);
  readonly #eventCounts = new Map<string, number>();
  readonly #spent = new Set<Fault>();
  readonly #changed = new Set<() => void>();

  constructor(faults: readonly Fault[] = [], seed = 0) {
    for (const f of faults) validate(f);
    this.#faults = [...faults];
    this.random = new Random(seed);
  }

  get faults(): readonly Fault[] {
    return this.#faults;
  }

  /**
   * Swaps in another plan: the old faults are disarmed and event counts start again from 0
   * (a fault campaign runs many plans on one board). The fired log is kept.
   */
  replace(faults: readonly Fault[]): void {
    for (const f of faults) validate(f);
    this.#faults.length = 0;
    this.#faults.push(...faults);
    this.#spent.clear();
    this.#eventCounts.clear();
    for (const listener of this.#changed) listener();
  }

  /** Arm one more fault during a scenario (e.g. "the 3rd program from now"). */
  add(fault: Fault): void {
    validate(fault);
    this.#faults.push(fault);
    for (const listener of this.#changed) listener();
  }

  /** Called after {@link replace} or {@link add} (a device re-arms its time faults); throwing refuses the change's effect. */
  onChange(listener: () => void): void {
    this.#changed.add(listener);
  }

  /** Faults that fired so far, in order (the newest kept): the evidence a report attaches. */
  get fired(): readonly FiredFault[] {
    return this.#fired.items;
  }

  /** How many faults ever fired: a mark for {@link firedSince} that survives dropping. */
  get firedCount(): number {
    return this.#fired.count;
  }

  /** The faults fired since `mark` (an earlier firedCount) that are still kept. */
  firedSince(mark: number): readonly FiredFault[] {
    return this.#fired.since(mark).items;
  }

  /**
   * The flash fault hook. Install with `flash.setFaultHook(op => plan.onFlashOp(op, clock.now()))`.
   * Only flash-op faults whose `what` is a flash-level action act here.
   */
  onFlashOp(op: FlashOp, now: number): FlashFaultAction | undefined {
    for (const fault of this.#faults) {
      const w = fault.where;
      if (w.at !== "flash-op" || this.#spent.has(fault)) continue;
      const hit = w.kind ? w.kind === op.kind && w.op === op.kindN : w.op === op.n;
      if (!hit) continue;
      const action = flashAction(fault.what);
      if (!action) continue;
      this.#fire(fault, now, `flash op ${op.n} (${op.kind} 0x${op.address.toString(16)}+${op.length})`);
      return action;
    }
    return undefined;
  }

  /**
   * A protocol event happened (client or device side). Returns the faults to apply now;
   * the caller (device or rig) carries them out.
   */
  onEvent(event: string, now: number): Fault[] {
    const k = (this.#eventCounts.get(event) ?? 0) + 1;
    this.#eventCounts.set(event, k);
    const due: Fault[] = [];
    for (const fault of this.#faults) {
      const w = fault.where;
      if (w.at === "event" && !this.#spent.has(fault) && w.event === event && w.occurrence === k) {
        this.#fire(fault, now, `event ${event} #${k}`);
        due.push(fault);
      }
    }
    return due;
  }

  /**
   * Faults armed for the next occurrence of `event`, without counting it or firing them: for
   * a device that must act before the operation the event reports (then it calls `onEvent`).
   */
  armed(event: string): Fault[] {
    const k = (this.#eventCounts.get(event) ?? 0) + 1;
    return this.#faults.filter(
      (f) =>
        f.where.at === "event" && !this.#spent.has(f) && f.where.event === event && f.where.occurrence === k,
    );
  }

  /** How many times `event` has happened so far, so a scenario can arm "the k-th from now". */
  eventCount(event: string): number {
    return this.#eventCounts.get(event) ?? 0;
  }

  /** Time faults due at or before `now` that have not fired. */
  dueAt(now: number): Fault[] {
    const due: Fault[] = [];
    for (const fault of this.#faults) {
      if (fault.where.at === "time" && !this.#spent.has(fault) && fault.where.ms <= now) {
        this.#fire(fault, now, `time ${fault.where.ms} ms`);
        due.push(fault);
      }
    }
    return due;
  }

  /** Earliest pending time fault, so a device can schedule a wake-up on its clock. */
  nextTimeFault(): number | undefined {
    let next: number | undefined;
    for (const f of this.#faults)
      if (f.where.at === "time" && !this.#spent.has(f)) next = Math.min(next ?? Infinity, f.where.ms);
    return next;
  }

  #fire(fault: Fault, t: number, detail: string): void {
    this.#spent.add(fault);
    this.#fired.push({ fault, t, detail });
  }
}

function flashAction(what: FaultWhat): FlashFaultAction | undefined {
  switch (what.do) {
    case "power-cut":
      return { action: "cut", torn: what.torn ?? false };
    case "flash-fail":
      return { action: "fail" };
    case "bit-flip":
      return { action: "bit-flip", count: what.bits ?? 1 };
    default:
      return undefined;
  }
}

function validate(f: Fault): void {
  const w = f.where;
  const bad = (msg: string) => new FaultPlanError(`fault ${formatFault(f)}: ${msg}`);
  if (w.at === "flash-op" && !(Number.isInteger(w.op) && w.op >= 1))
    throw bad("flash op must be an integer >= 1");
  if (w.at === "event" && (!w.event || !(Number.isInteger(w.occurrence) && w.occurrence >= 1)))
    throw bad("event needs a name and an occurrence >= 1");
  if (w.at === "time" && !(w.ms >= 0)) throw bad("time must be >= 0 ms");
  if (!WHAT_NAMES.includes(f.what.do)) throw bad(`unknown fault '${f.what.do}'`);
  if (f.what.do === "dfu-status" && !isFailureStatus(f.what.status))
    throw bad(`unknown DFU status '${f.what.status}' (expected one of ${failureStatusNames()})`);
  // The others act on something the device does (a flash operation, a protocol event): at a
  // bare instant they would be armed to never fire.
  if (w.at === "time" && f.what.do !== "power-cut")
    throw bad(`only power-cut can fire at a time; ${f.what.do} needs a flash-op: or event: position`);
}

function failureStatusNames(): string {
  return Object.keys(DfuStatus)
    .filter((n) => n !== "OK")
    .join(", ");
}

/**
 * Text form used by `hil run --fault` and in reports:
 *   flash-op:37=power-cut        flash-op:program#3=power-cut-torn
 *   event:dfu.dnload.block#37=usb-disconnect   time:1500=power-cut   flash-op:12=bit-flip
 *   event:dfu.dnload.block#3=dfu-status-errPROG   (any DFU 1.1 bStatus name but OK)
 */
export function parseFault(text: string): Fault {
  const m = /^(flash-op|event|time):([^=]+)=([a-z-]+|dfu-status-\w+)$/.exec(text.trim());
  if (!m) throw new FaultPlanError(`fault '${text}': expected WHERE=WHAT, e.g. flash-op:37=power-cut`);
  const [, at, spec, whatName] = m as unknown as [string, string, string, string];
  const num = (s: string, field: string) => {
    if (!/^\d+$/.test(s)) throw new FaultPlanError(`fault '${text}': ${field} '${s}' is not a whole number`);
    return Number(s);
  };
  let where: FaultWhere;
  if (at === "flash-op") {
    const km = /^(?:(erase|program)#)?(\d+)$/.exec(spec);
    if (!km) throw new FaultPlanError(`fault '${text}': flash op must be N, erase#N or program#N`);
    where = km[1] ? { at, op: num(km[2]!, "op"), kind: km[1] as FlashOpKind } : { at, op: num(km[2]!, "op") };
  } else if (at === "event") {
    const em = /^([\w.-]+)#(\d+)$/.exec(spec);
    if (!em) throw new FaultPlanError(`fault '${text}': event must be NAME#OCCURRENCE`);
    where = { at, event: em[1]!, occurrence: num(em[2]!, "occurrence") };
  } else {
    where = { at: "time", ms: num(spec, "time") };
  }
  let what: FaultWhat;
  if (whatName === "power-cut-torn") what = { do: "power-cut", torn: true };
  else if (whatName.startsWith(DFU_STATUS_PREFIX)) {
    const status = whatName.slice(DFU_STATUS_PREFIX.length);
    if (!isFailureStatus(status))
      throw new FaultPlanError(
        `fault '${text}': unknown DFU status '${status}' (expected one of ${failureStatusNames()})`,
      );
    what = { do: "dfu-status", status };
  } else what = { do: whatName } as FaultWhat;
  const fault = { where, what };
  validate(fault);
  return fault;
}

// Moved to harness/seams (reports read them without importing the emulator core); re-exported.
export { type FaultWhere, formatFault, formatWhat };
