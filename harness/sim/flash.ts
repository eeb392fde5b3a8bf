import { type ErrorCategory, HilError } from "../seams/errors.js";
import type { FlashOpKind } from "../seams/flash-view.js";
import { Random } from "./random.js";

/**
 * NOR flash model: the ground truth every emulated bootloader writes through.
 *
 * - Erase works on whole sectors and sets them to the erased value.
 * - Programming works on aligned program units (8 bytes on STM32L4/WB) and only into
 *   fully erased units; anything else is refused and reported, and the device decides
 *   whether the real chip shows that as an error status or fails silently.
 * - Every erase and program call is one numbered operation (1-based), so a sweep can cut
 *   power before operation N for every N, as MCUboot's simulator does.
 * - A torn cut leaves the interrupted operation half done: a prefix of the units
 *   programmed, then one unit whose bits went only partly from 1 to 0 (or, for an erase,
 *   only partly from 0 to 1), chosen by the seeded PRNG so the same seed tears the same way.
 * - Snapshots are copy-on-write per sector: taking one is O(sectors), not O(bytes).
 */

export interface SectorRun {
  /** Size of each sector in this run, in bytes. */
  size: number;
  count: number;
}

export interface FlashGeometry {
  /** Address of the first byte (0x08000000 on STM32). */
  base: number;
  /** Sector map as runs of equal sectors; sectors may differ in size (STM32F4-style banks). */
  sectors: SectorRun[];
  /** Program unit in bytes: the smallest aligned amount that can be programmed. */
  programUnit: number;
  /** Value of an erased byte. */
  erasedValue?: number;
}

export interface Sector {
  index: number;
  start: number;
  size: number;
}

export type { FlashOpKind };

/** One flash operation as seen by fault hooks and listeners. */
export interface FlashOp {
  /** 1-based operation number since the flash was created (or counters reset). */
  n: number;
  kind: FlashOpKind;
  /** 1-based number among operations of this kind (erases or programs), same origin as `n`. */
  kindN: number;
  address: number;
  length: number;
}

export type FlashRefusal = "out-of-range" | "misaligned" | "not-erased" | "write-protected";

export type FlashResult =
  | { ok: true }
  | { ok: false; reason: FlashRefusal; address: number; detail: string }
  | { ok: false; reason: "fault"; address: number; detail: string };

/** What a fault hook may do to an operation that is about to run. */
export type FlashFaultAction =
  | { action: "cut"; torn: boolean }
  | { action: "fail" }
  | { action: "bit-flip"; count: number };

export type FlashFaultHook = (op: FlashOp) => FlashFaultAction | undefined;

/** Thrown out of erase/program when power is cut at an operation: the device must stop. */
export class PowerCutError extends HilError {
  static override readonly category: ErrorCategory = "harness";
  constructor(
    readonly op: FlashOp,
    readonly torn: boolean,
  ) {
    super(
      `power cut before flash operation ${op.n} (${op.kind} 0x${op.address.toString(16)}+${op.length}${torn ? ", torn" : ""})`,
    );
    this.name = "PowerCutError";
  }
}

/** Thrown by reads of a read-protected region (RDP and the like). */
export class FlashReadProtectedError extends HilError {
  static override readonly category: ErrorCategory = "harness";
  constructor(readonly address: number) {
    super(`flash read refused: 0x${address.toString(16)} is read-protected`);
    this.name = "FlashReadProtectedError";
  }
}

/** Thrown on any access while the flash is unpowered (after a cut, before power-on). */
export class FlashUnpoweredError extends HilError {
  static override readonly category: ErrorCategory = "harness";
  constructor(op: string) {
    super(`flash ${op} while unpowered`);
    this.name = "FlashUnpoweredError";
  }
}

export interface FlashCounters {
  erases: number;
  programs: number;
  /** Total operations, refused ones included: the numbering that cuts refer to. */
  ops: number;
}

export interface FlashSnapshot {
  readonly sectors: readonly Uint8Array[];
  readonly counters: Readonly<FlashCounters>;
  readonly writeProtected: readonly boolean[];
}

export interface FlashOptions {
  /** Seed for torn-operation contents. */
  seed?: number;
  /** Name used in error messages ("stm32l432 flash"). */
  name?: string;
}

export class Flash {
  readonly base: number;
  readonly size: number;
  readonly programUnit: number;
  readonly erasedValue: number;
  readonly name: string;
  readonly #layout: Sector[];
  #sectors: Uint8Array[];
  /** false = buffer shared with a snapshot (or the erased template): copy before writing. */
  #owned: boolean[];
  #writeProtected: boolean[];
  #readProtected: (address: number, length: number) => boolean = () => false;
  #counters: FlashCounters = { erases: 0, programs: 0, ops: 0 };
  #cut: { beforeOp: number; torn: boolean } | undefined;
  #faultHook: FlashFaultHook | undefined;
  #powered = true;
  readonly #listeners = new Set<(op: FlashOp, result: FlashResult) => void>();
  readonly #random: Random;
  /** Erased bytes as long as the largest sector: isErased compares against it natively. */
  readonly #erasedRun: Uint8Array;
  /** One erased buffer per sector size, shared (never written) by every erased sector. */
  readonly #erasedSectors = new Map<number, Uint8Array>();

  constructor(geometry: FlashGeometry, options: FlashOptions = {}) {
    const { base, sectors, programUnit } = geometry;
    this.erasedValue = geometry.erasedValue ?? 0xff;
    this.name = options.name ?? "flash";
    if (!Number.isInteger(programUnit) || programUnit < 1)
      throw new RangeError(`${this.name}: bad program unit ${programUnit}`);
    if (!(this.erasedValue >= 0 && this.erasedValue <= 0xff))
      throw new RangeError(`${this.name}: bad erased value`);
    this.base = base;
    this.programUnit = programUnit;
    this.#layout = [];
    let start = base;
    for (const run of sectors) {
      if (run.size % programUnit !== 0 || run.size <= 0 || run.count <= 0)
        throw new RangeError(
          `${this.name}: sector size ${run.size} must be a positive multiple of the program unit`,
        );
      for (let i = 0; i < run.count; i++) {
        this.#layout.push({ index: this.#layout.length, start, size: run.size });
        start += run.size;
      }
    }
    this.size = start - base;
    const templates = this.#erasedSectors;
    this.#sectors = this.#layout.map((s) => {
      const shared = templates.get(s.size) ?? new Uint8Array(s.size).fill(this.erasedValue);
      templates.set(s.size, shared);
      return shared;
    });
    this.#erasedRun = new Uint8Array(Math.max(...templates.keys())).fill(this.erasedValue);
    this.#owned = this.#layout.map(() => false);
    this.#writeProtected = this.#layout.map(() => false);
    this.#random = new Random(options.seed ?? 0);
  }

  get sectors(): readonly Sector[] {
    return this.#layout;
  }

  get counters(): Readonly<FlashCounters> {
    return { ...this.#counters };
  }

  get powered(): boolean {
    return this.#powered;
  }

  /** The sector holding `address`, or undefined outside the flash. */
  sectorAt(address: number): Sector | undefined {
    if (address < this.base || address >= this.base + this.size) return undefined;
    let lo = 0;
    let hi = this.#layout.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#layout[mid]!.start <= address) lo = mid;
      else hi = mid - 1;
    }
    return this.#layout[lo];
  }

  contains(address: number, length: number): boolean {
    return address >= this.base && length >= 0 && address + length <= this.base + this.size;
  }

  /** Device-visible read; refuses read-protected regions. */
  read(address: number, length: number): Uint8Array {
    if (!this.#powered) throw new FlashUnpoweredError("read");
    this.#checkRange(address, length);
    if (this.#readProtected(address, length)) throw new FlashReadProtectedError(address);
    return this.peek(address, length);
  }

  /** Test/assertion read: ignores protection and power (what a probe on the die would see). */
  peek(address: number, length: number): Uint8Array {
    this.#checkRange(address, length);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const at = address + done;
      const s = this.sectorAt(at)!;
      const off = at - s.start;
      const n = Math.min(length - done, s.size - off);
      out.set(this.#sectors[s.index]!.subarray(off, off + n), done);
      done += n;
    }
    return out;
  }

  isErased(address: number, length: number): boolean {
    this.#checkRange(address, length);
    // Compares the sector buffers in place (memcmp): this runs for every program call.
    for (let done = 0; done < length; ) {
      const at = address + done;
      const s = this.sectorAt(at)!;
      const off = at - s.start;
      const n = Math.min(length - done, s.size - off);
      const buf = this.#sectors[s.index]!;
      if (Buffer.compare(buf.subarray(off, off + n), this.#erasedRun.subarray(0, n)) !== 0) return false;
      done += n;
    }
    return true;
  }

  setWriteProtected(sectorIndex: number, on: boolean): void {
    if (!this.#layout[sectorIndex]) throw new RangeError(`${this.name}: no sector ${sectorIndex}`);
    this.#writeProtected[sectorIndex] = on;
  }

  isWriteProtected(sectorIndex: number): boolean {
    return this.#writeProtected[sectorIndex] ?? false;
  }

  /** Device policy for refused reads (e.g. RDP level 1 with a debugger/bootloader attached). */
  setReadProtection(isProtected: (address: number, length: number) => boolean): void {
    this.#readProtected = isProtected;
  }

  /** Arm a power cut: operation number `beforeOp` (1-based, counted from now on the running total) never completes. */
  armCut(beforeOp: number, options: { torn?: boolean } = {}): void {
    if (!Number.isInteger(beforeOp) || beforeOp <= this.#counters.ops)
      throw new RangeError(
        `${this.name}: cut must be armed for a future operation (> ${this.#counters.ops}), got ${beforeOp}`,
      );
    this.#cut = { beforeOp, torn: options.torn ?? false };
  }

  disarmCut(): void {
    this.#cut = undefined;
  }

  /** One hook at a time; a FaultPlan installs it when bound to a device. */
  setFaultHook(hook: FlashFaultHook | undefined): void {
    this.#faultHook = hook;
  }

  /** Called for every operation after it ran (refused or not). Returns an unsubscribe function. */
  onOperation(listener: (op: FlashOp, result: FlashResult) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Power state as the device's Power drives it; unpowered flash refuses everything. */
  setPowered(on: boolean): void {
    this.#powered = on;
  }

  erase(sectorIndex: number): FlashResult {
    const sector = this.#layout[sectorIndex];
    const op = this.#begin("erase", sector?.start ?? sectorIndex, sector?.size ?? 0);
    const refusal = !sector
      ? refuse("out-of-range", sectorIndex, `no sector ${sectorIndex}`)
      : this.#writeProtected[sectorIndex]
        ? refuse("write-protected", sector.start, `sector ${sectorIndex} is write-protected`)
        : undefined;
    const fault = this.#faultFor(
      op,
      refusal === undefined && sector ? () => this.#tearErase(sector) : undefined,
    );
    if (refusal || !sector) return this.#finish(op, refusal!);
    if (fault?.action === "fail")
      return this.#finish(op, refuse("fault", sector.start, "injected erase failure"));
    // Copy-on-write from the shared erased buffer: an erase allocates nothing.
    this.#sectors[sectorIndex] = this.#erasedSectors.get(sector.size)!;
    this.#owned[sectorIndex] = false;
    if (fault?.action === "bit-flip") this.#flipBits(sector.start, sector.size, fault.count);
    return this.#finish(op, { ok: true });
  }

  /** Erase every sector that is not write-protected, as one operation per sector. */
  eraseRange(address: number, length: number): FlashResult {
    this.#checkRange(address, length);
    const first = this.sectorAt(address)!;
    const last = this.sectorAt(address + Math.max(length, 1) - 1)!;
    for (let i = first.index; i <= last.index; i++) {
      const r = this.erase(i);
      if (!r.ok) return r;
    }
    return { ok: true };
  }

  program(address: number, data: Uint8Array): FlashResult {
    const op = this.#begin("program", address, data.length);
    const refusal = this.#programRefusal(address, data);
    const fault = this.#faultFor(op, refusal ? undefined : () => this.#tearProgram(address, data));
    if (refusal) return this.#finish(op, refusal);
    if (fault?.action === "fail")
      return this.#finish(op, refuse("fault", address, "injected program failure"));
    this.#store(address, data);
    if (fault?.action === "bit-flip") this.#flipBits(address, data.length, fault.count);
    return this.#finish(op, { ok: true });
  }

  #programRefusal(address: number, data: Uint8Array): FlashResult | undefined {
    if (data.length === 0 || !this.contains(address, data.length))
      return refuse(
        "out-of-range",
        address,
        `${data.length} bytes at 0x${address.toString(16)} outside flash`,
      );
    if ((address - this.base) % this.programUnit !== 0 || data.length % this.programUnit !== 0)
      return refuse(
        "misaligned",
        address,
        `program unit is ${this.programUnit} bytes: address and length must be multiples`,
      );
    for (let at = address; at < address + data.length; ) {
      const s = this.sectorAt(at)!;
      if (this.#writeProtected[s.index])
        return refuse("write-protected", at, `sector ${s.index} is write-protected`);
      at = s.start + s.size;
    }
    if (!this.isErased(address, data.length)) {
      let off = 0;
      while (this.isErased(address + off, this.programUnit)) off += this.programUnit;
      return refuse("not-erased", address + off, `unit at 0x${(address + off).toString(16)} is not erased`);
    }
    return undefined;
  }

  snapshot(): FlashSnapshot {
    this.#owned.fill(false);
    return {
      sectors: [...this.#sectors],
      counters: { ...this.#counters },
      writeProtected: [...this.#writeProtected],
    };
  }

  restore(snapshot: FlashSnapshot): void {
    if (snapshot.sectors.length !== this.#layout.length)
      throw new Error(`${this.name}: snapshot from another geometry`);
    this.#sectors = [...snapshot.sectors];
    this.#owned.fill(false);
    this.#counters = { ...snapshot.counters };
    this.#writeProtected = [...snapshot.writeProtected];
    this.#cut = undefined;
  }

  /** Load an image without counting operations (factory programming, test setup). */
  load(address: number, data: Uint8Array): void {
    this.#checkRange(address, data.length);
    this.#store(address, data);
  }

  #begin(kind: FlashOpKind, address: number, length: number): FlashOp {
    if (!this.#powered) throw new FlashUnpoweredError(kind);
    this.#counters.ops++;
    if (kind === "erase") this.#counters.erases++;
    else this.#counters.programs++;
    const kindN = kind === "erase" ? this.#counters.erases : this.#counters.programs;
    return { n: this.#counters.ops, kind, kindN, address, length };
  }

  #finish(op: FlashOp, result: FlashResult): FlashResult {
    for (const l of this.#listeners) l(op, result);
    return result;
  }

  /**
   * The fault for this operation, if any. A power cut is carried out here, before the
   * operation touches the array: torn, the operation gets part of the way (`tear`, absent
   * for an operation the flash would refuse anyway); either way the caller never returns.
   */
  #faultFor(
    op: FlashOp,
    tear: (() => void) | undefined,
  ): Exclude<FlashFaultAction, { action: "cut" }> | undefined {
    let fault: FlashFaultAction | undefined;
    if (this.#cut && this.#cut.beforeOp === op.n) {
      fault = { action: "cut", torn: this.#cut.torn };
      this.#cut = undefined;
    } else {
      fault = this.#faultHook?.(op);
    }
    if (fault?.action !== "cut") return fault;
    if (fault.torn) tear?.();
    this.#powered = false;
    throw new PowerCutError(op, fault.torn);
  }

  #tearProgram(address: number, data: Uint8Array): void {
    const units = data.length / this.programUnit;
    const doneUnits = this.#random.below(units);
    this.#store(address, data.subarray(0, doneUnits * this.programUnit));
    // The interrupted unit: each bit that should go 1→0 made it or not, at random.
    const at = address + doneUnits * this.programUnit;
    const old = this.peek(at, this.programUnit);
    const want = data.subarray(doneUnits * this.programUnit, (doneUnits + 1) * this.programUnit);
    const torn = old.map((o, i) => o & (want[i]! | this.#random.byte()));
    this.#store(at, torn);
  }

  #tearErase(sector: Sector): void {
    const buf = this.#writable(sector.index);
    // Erasing drives bits toward the erased value; an interrupted erase got part of the way.
    const e = this.erasedValue;
    for (let i = 0; i < buf.length; i++) {
      const mask = this.#random.byte();
      buf[i] = (buf[i]! & ~mask) | (e & mask);
    }
  }

  #flipBits(address: number, length: number, count: number): void {
    for (let k = 0; k < count; k++) {
      const at = address + this.#random.below(length);
      const s = this.sectorAt(at)!;
      this.#writable(s.index)[at - s.start]! ^= 1 << this.#random.below(8);
    }
  }

  #store(address: number, data: Uint8Array): void {
    let done = 0;
    while (done < data.length) {
      const at = address + done;
      const s = this.sectorAt(at)!;
      const off = at - s.start;
      const n = Math.min(data.length - done, s.size - off);
      this.#writable(s.index).set(data.subarray(done, done + n), off);
      done += n;
    }
  }

  #writable(index: number): Uint8Array {
    if (!this.#owned[index]) {
      this.#sectors[index] = this.#sectors[index]!.slice();
      this.#owned[index] = true;
    }
    return this.#sectors[index]!;
  }

  #checkRange(address: number, length: number): void {
    if (!Number.isInteger(address) || !Number.isInteger(length) || !this.contains(address, length))
      throw new RangeError(
        `${this.name}: 0x${address.toString(16)}+${length} is outside 0x${this.base.toString(16)}..0x${(this.base + this.size).toString(16)}`,
      );
  }
}

function refuse(reason: FlashRefusal | "fault", address: number, detail: string): FlashResult {
  return { ok: false, reason, address, detail } as FlashResult;
}
