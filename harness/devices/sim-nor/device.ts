import { type ErrorCategory, HilError } from "../../seams/errors.js";
import { Flash, type FlashResult } from "../../sim/flash.js";
import { EmulatedDevice, type EmulatorContext } from "../emulated-device.js";
import { verifyImage } from "./image.js";
import { encodeRecord, type LogRecord, RecordKind, SwapStep, scanLog } from "./swap-log.js";

/**
 * `sim-nor`: a synthetic board that exists to exercise the emulator core end to end. It
 * has an STM32L4-like flash (2 KB sectors, 8-byte program unit) and a small A/B updater
 * that swaps a staged image into the primary slot through a scratch sector, logging each
 * step so that an install cut at any flash operation resumes on the next boot. A power-cut
 * sweep over it checks the harness (cut-before-N, torn units, snapshots, virtual time)
 * the way later suites will use it on the real protocols.
 */

/** Timings (STM32L432 datasheet, table "Flash memory characteristics": page erase 22 ms, double-word program 90 µs). */
export const SIM_NOR_TIMING = {
  sectorEraseMs: 22,
  unitProgramMs: 0.09,
  bootMs: 2,
} as const;

export const SIM_NOR_LAYOUT = {
  base: 0x0800_0000,
  sectorSize: 2048,
  sectorCount: 16,
  programUnit: 8,
  primary: 0,
  secondary: 4,
  slotSectors: 4,
  scratch: 8,
  log: 9,
  /** Copies go in rows of this size, as a flash driver would write them. */
  rowSize: 256,
} as const;

export type SimNorState = "off" | "booting" | "swapping" | "running" | "no-image";

export class UpdateError extends HilError {
  static override readonly category: ErrorCategory = "device";
  constructor(
    message: string,
    readonly result?: FlashResult,
  ) {
    super(message);
    this.name = "UpdateError";
  }
}

export class SimNorDevice extends EmulatedDevice<SimNorState> {
  readonly family = "sim-nor";
  readonly flash: Flash;
  readonly serial: string;
  #state: SimNorState = "off";
  #runningVersion: number | undefined;

  constructor(ctx: EmulatorContext) {
    const L = SIM_NOR_LAYOUT;
    const flash = new Flash(
      { base: L.base, sectors: [{ size: L.sectorSize, count: L.sectorCount }], programUnit: L.programUnit },
      { seed: ctx.seed, name: "sim-nor flash" },
    );
    super(ctx, [flash]);
    this.flash = flash;
    this.serial = ctx.serial ?? "SIMNOR000001";
  }

  get state(): SimNorState {
    return this.#state;
  }

  /** Version of the application that booted, if one did. */
  get runningVersion(): number | undefined {
    return this.#runningVersion;
  }

  sectorAddress(index: number): number {
    return SIM_NOR_LAYOUT.base + index * SIM_NOR_LAYOUT.sectorSize;
  }

  slotAddress(slot: "primary" | "secondary"): number {
    return this.sectorAddress(slot === "primary" ? SIM_NOR_LAYOUT.primary : SIM_NOR_LAYOUT.secondary);
  }

  get slotSize(): number {
    return SIM_NOR_LAYOUT.slotSectors * SIM_NOR_LAYOUT.sectorSize;
  }

  /** Write an image into the secondary slot (what an upload over the update protocol would do). */
  async stage(image: Uint8Array): Promise<void> {
    if (image.length > this.slotSize)
      throw new UpdateError(`image is ${image.length} bytes, slot holds ${this.slotSize}`);
    await this.powered(async (epoch) => {
      const L = SIM_NOR_LAYOUT;
      this.log("state", "staging");
      await this.#erase(epoch, L.log);
      for (let i = 0; i < L.slotSectors; i++) await this.#erase(epoch, L.secondary + i);
      const padded = new Uint8Array(Math.ceil(image.length / L.programUnit) * L.programUnit).fill(
        this.flash.erasedValue,
      );
      padded.set(image);
      for (let off = 0; off < padded.length; off += L.rowSize)
        await this.#program(
          epoch,
          this.slotAddress("secondary") + off,
          padded.subarray(off, off + L.rowSize),
        );
    });
  }

  /** Mark the staged image for installation on the next boot. */
  async requestInstall(): Promise<void> {
    await this.powered(async (epoch) => {
      await this.#appendLog(epoch, { kind: RecordKind.Start, sector: 0, step: 0 });
      this.log("state", "install requested");
    });
  }

  protected override onPowerLost(): void {
    this.#state = "off";
    this.noteState();
    this.#runningVersion = undefined;
  }

  protected override async boot(): Promise<void> {
    const epoch = this.power.epoch;
    this.#setState("booting");
    await this.busy(epoch, SIM_NOR_TIMING.bootMs);
    let pending = this.#pendingSwap();
    if (pending?.sector === 0 && pending.step === 0 && !this.#stagedImageValid()) {
      // Like MCUboot: never swap in an image that does not verify; keep the running one.
      this.log("state", "staged image does not verify: install abandoned");
      await this.#appendLog(epoch, { kind: RecordKind.Done, sector: 0, step: 0 });
      pending = undefined;
    }
    if (pending) {
      this.#setState("swapping");
      await this.#swap(epoch, pending);
    }
    const L = SIM_NOR_LAYOUT;
    const image = verifyImage(this.flash.read(this.slotAddress("primary"), L.slotSectors * L.sectorSize));
    if (!image) {
      this.#setState("no-image");
      return;
    }
    this.#runningVersion = image.version;
    this.#setState("running");
    this.log("state", `running version ${image.version}`);
  }

  #stagedImageValid(): boolean {
    return verifyImage(this.flash.read(this.slotAddress("secondary"), this.slotSize)) !== undefined;
  }

  /** Next (sector, step) of an unfinished swap, or undefined when none is in progress. */
  #pendingSwap(): { sector: number; step: number } | undefined {
    const L = SIM_NOR_LAYOUT;
    const { records } = scanLog(this.flash, this.sectorAddress(L.log), L.sectorSize);
    const startAt = records.findLastIndex((r) => r.kind === RecordKind.Start);
    if (startAt < 0) return undefined;
    const after = records.slice(startAt + 1);
    if (after.some((r) => r.kind === RecordKind.Done)) return undefined;
    const last = after.findLast((r) => r.kind === RecordKind.Step);
    if (!last) return { sector: 0, step: 0 };
    return last.step === SwapStep.ScratchToSecondary
      ? { sector: last.sector + 1, step: 0 }
      : { sector: last.sector, step: last.step + 1 };
  }

  async #swap(epoch: number, from: { sector: number; step: number }): Promise<void> {
    const L = SIM_NOR_LAYOUT;
    this.log("state", `swap resumes at sector ${from.sector} step ${from.step}`);
    for (let sector = from.sector; sector < L.slotSectors; sector++) {
      for (let step = sector === from.sector ? from.step : 0; step <= SwapStep.ScratchToSecondary; step++) {
        const [src, dst] = this.#stepSectors(sector, step);
        await this.#copySector(epoch, src, dst);
        await this.#appendLog(epoch, { kind: RecordKind.Step, sector, step });
      }
    }
    await this.#appendLog(epoch, { kind: RecordKind.Done, sector: 0, step: 0 });
    this.log("state", "swap done");
  }

  #stepSectors(sector: number, step: SwapStep): [number, number] {
    const L = SIM_NOR_LAYOUT;
    const primary = L.primary + sector;
    const secondary = L.secondary + sector;
    if (step === SwapStep.PrimaryToScratch) return [primary, L.scratch];
    if (step === SwapStep.SecondaryToPrimary) return [secondary, primary];
    return [L.scratch, secondary];
  }

  async #copySector(epoch: number, src: number, dst: number): Promise<void> {
    const L = SIM_NOR_LAYOUT;
    await this.#erase(epoch, dst);
    const data = this.flash.read(this.sectorAddress(src), L.sectorSize);
    for (let off = 0; off < L.sectorSize; off += L.rowSize) {
      const row = data.subarray(off, off + L.rowSize);
      // Erased rows stay erased: programming all-ones would be wasted wear (and a real driver skips it).
      if (row.every((b) => b === this.flash.erasedValue)) continue;
      await this.#program(epoch, this.sectorAddress(dst) + off, row);
    }
  }

  async #appendLog(epoch: number, record: LogRecord): Promise<void> {
    const L = SIM_NOR_LAYOUT;
    const { nextAddress } = scanLog(this.flash, this.sectorAddress(L.log), L.sectorSize);
    if (nextAddress === undefined) throw new UpdateError("swap log sector is full");
    await this.#program(epoch, nextAddress, encodeRecord(record));
  }

  async #erase(epoch: number, sector: number): Promise<void> {
    const result = this.flash.erase(sector);
    await this.busy(epoch, SIM_NOR_TIMING.sectorEraseMs);
    if (!result.ok) throw new UpdateError(`erase of sector ${sector} failed: ${result.detail}`, result);
  }

  async #program(epoch: number, address: number, data: Uint8Array): Promise<void> {
    const result = this.flash.program(address, data);
    await this.busy(epoch, (data.length / SIM_NOR_LAYOUT.programUnit) * SIM_NOR_TIMING.unitProgramMs);
    if (!result.ok)
      throw new UpdateError(`program of 0x${address.toString(16)} failed: ${result.detail}`, result);
  }

  #setState(state: SimNorState): void {
    this.#state = state;
    this.log("state", state);
    this.noteState();
  }
}
