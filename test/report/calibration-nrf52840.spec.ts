/**
 * Calibration for MCUboot on the nRF52840: the host times a swap as the reset that does it
 * (request to the application answering again, in sectors swapped) and a plain reset on
 * its own; hil calibrate turns those and the upload into the emulator's figures, which an
 * emulated board loads through its timing overlay.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { observeOperations, operationObserver } from "../../harness/clients/operation.js";
import type { ImageSlotState } from "../../harness/clients/smp/index.js";
import { resetTitle, swapPending, swapSectors } from "../../harness/clients/smp/swap-ahead.js";
import { Nrf52840McubootDevice } from "../../harness/devices/nrf52840-mcuboot/device.js";
import { NRF52840_FLASH, NRF52840_TIMING } from "../../harness/devices/nrf52840-mcuboot/profile.js";
import { emulatorOperationMs } from "../../harness/devices/operation-profile.js";
import { timeOperationsOn } from "../../harness/mocha/timing-hooks.js";
import { publicOf } from "../../harness/protocol/mcuboot/index.js";
import { buildCalibration } from "../../harness/report/calibration.js";
import { NRF52840_DATASHEET, SMP_LINK_RESET_WAIT_MS } from "../../harness/report/calibration-figures.js";
import { NIGHT_FORMAT, type NightRecord } from "../../harness/report/night-history.js";
import { operationName, summariseTiming } from "../../harness/report/operation-timing.js";
import type { Board } from "../../harness/rig/board.js";
import { WallClock } from "../../harness/transport/clock.js";
import { app, goodKey } from "../devices/nrf52840/helpers.js";
import {
  calibrateFrom,
  expectReplayed,
  KEY_OPTIONS,
  one,
  rigBoard,
  timedUpdate,
} from "./nrf-timed-update.js";

describe("clients/smp: what the next reset does, from the last image state", () => {
  const slot = (s: Partial<ImageSlotState>): ImageSlotState => ({ slot: 0, version: "1.0.0", ...s });

  it("a pending secondary (test or permanent) or an unconfirmed running image means a swap", () => {
    expect(swapPending(undefined)).to.equal(false);
    expect(swapPending([slot({ active: true, confirmed: true })])).to.equal(false);
    expect(
      swapPending([slot({ active: true, confirmed: true }), slot({ slot: 1, pending: false })]),
    ).to.equal(false);
    expect(swapPending([slot({ active: true, confirmed: true }), slot({ slot: 1, pending: true })])).to.equal(
      true,
    );
    // Booted for a test and not confirmed: MCUboot reverts at the next reset.
    expect(swapPending([slot({ active: true, confirmed: false })])).to.equal(true);
    // Another image of a multi-image board is not this one's swap.
    expect(
      swapPending([slot({ active: true, confirmed: true }), slot({ image: 1, slot: 1, pending: true })]),
    ).to.equal(false);
  });

  it("counts whole sectors of the uploaded image, and titles the reset so the timing names it", () => {
    expect(swapSectors(1, 4096)).to.equal(1);
    expect(swapSectors(4096, 4096)).to.equal(1);
    expect(swapSectors(4097, 4096)).to.equal(2);
    expect(swapSectors(0, 4096)).to.equal(1);
    expect(operationName(resetTitle({ sectors: 24 }))).to.deep.equal({ op: "MCUboot swap", units: 24 });
    expect(operationName(resetTitle(undefined))).to.deep.equal({ op: "MCUboot reset", units: 1 });
    expect(operationName("image upload 10240 bytes")).to.deep.equal({
      op: "MCUboot image upload",
      units: 10,
    });
  });
});

describe("devices/nrf52840: timing overlay and the report's emulator figures", () => {
  const build = (timing: unknown) =>
    new Nrf52840McubootDevice({ clock: new WallClock(), seed: 1, options: { timing } as never });

  it("refuses an unknown key or a figure that is not positive, naming it; takes the rest", () => {
    expect(() => build({ pageEraseMS: 3 })).to.throw(
      /emulator option timing.pageEraseMS: expected one of pageEraseMs, wordWriteMs, bootloaderMs, smpResetDelayMs, uploadByteMs/,
    );
    expect(() => build({ wordWriteMs: 0 })).to.throw(
      "emulator option timing.wordWriteMs: expected a positive number of ms, got 0",
    );
    expect(() => build({ bootloaderMs: "slow" })).to.throw(
      'emulator option timing.bootloaderMs: expected a positive number of ms, got "slow"',
    );
    expect(() => build([1])).to.throw(/emulator option timing: expected an object of pageEraseMs/);
    const dev = build({ pageEraseMs: 120, uploadByteMs: 0.1 });
    expect(dev.timing).to.deep.equal({ ...NRF52840_TIMING, pageEraseMs: 120, uploadByteMs: 0.1 });
    expect(dev.primary.timing.pageEraseMs).to.equal(120);
    expect(build(undefined).timing).to.deep.equal(NRF52840_TIMING);
  });

  it("the calibration's datasheet figures are the emulator's profile", () => {
    expect(NRF52840_DATASHEET.wordWriteMs).to.equal(NRF52840_TIMING.wordWriteMs);
    expect(NRF52840_DATASHEET.smpResetDelayMs).to.equal(NRF52840_TIMING.smpResetDelayMs);
    expect(NRF52840_FLASH.pageSize).to.equal(4096);
  });

  it("gives the report the emulator's swap per sector, upload per KB and reset", () => {
    const nrf = { family: "nrf52840" };
    expect(emulatorOperationMs(nrf, "MCUboot swap")).to.be.closeTo(3 * 85 + 3075 * 0.041, 1e-9);
    expect(emulatorOperationMs(nrf, "MCUboot image upload")).to.be.closeTo(256 * 0.041, 1e-9);
    expect(emulatorOperationMs(nrf, "MCUboot reset")).to.equal(270);
    expect(emulatorOperationMs(nrf, "page erase")).to.equal(undefined);
    expect(emulatorOperationMs({ family: "stm32l432" }, "MCUboot swap")).to.equal(undefined);
  });
});

describe("report/calibration: nRF52840 figures from swaps, uploads and resets", () => {
  const night = (
    n: number,
    ops: Record<string, [count: number, units: number, ms: number]>,
  ): NightRecord => ({
    format: NIGHT_FORMAT,
    at: new Date(Date.UTC(2026, 0, 1 + n, 2)).toISOString(),
    timing: summariseTiming(
      Object.entries(ops).flatMap(([op, [count, units, ms]]) =>
        Array.from({ length: count }, () => ({ board: "lab-nrf", op, units: units / count, ms: ms / count })),
      ),
      () => ({ family: "nrf52840", emulated: false }),
    ),
  });

  it("takes the plain reset off each swap, spreads the trailer erases, and leaves the writes at the datasheet's", () => {
    // Reset 450 ms a run; a 10-sector swap: 450 + (3·10 + 2) · 120 + 10 · 126.075 ms.
    const swapMs = 450 + 32 * 120 + 10 * 126.075;
    const c = buildCalibration(
      [
        night(0, {
          "MCUboot reset": [2, 2, 900],
          "MCUboot swap": [1, 10, swapMs],
          "MCUboot image upload": [1, 40, 40 * (256 * 0.041 + 1024 * 0.1)],
        }),
      ],
      "lab-nrf",
      "h.jsonl",
    );
    expect(c.family).to.equal("nrf52840");
    expect(c.timing.pageEraseMs).to.be.closeTo(120, 1e-6);
    expect(c.timing.uploadByteMs).to.be.closeTo(0.1, 1e-6);
    expect(c.timing.bootloaderMs).to.be.closeTo(450 - SMP_LINK_RESET_WAIT_MS, 1e-6);
    expect(c.sources.pageEraseMs).to.include('less the median "MCUboot reset" (450 ms) per run');
    expect(c.sources.pageEraseMs).to.include("3 erases a sector, 2 trailer-sector erases a swap");
    // Without a plain reset timed, nothing is taken off, and it says so.
    const alone = buildCalibration([night(0, { "MCUboot swap": [1, 10, swapMs] })], "lab-nrf", "h.jsonl");
    expect(alone.timing.pageEraseMs).to.be.closeTo(120 + 450 / 32, 1e-6);
    expect(alone.sources.pageEraseMs).to.include('with no "MCUboot reset" timed to take off');
  });
});

/**
 * The proof: an nRF52840 timed on the wall clock (the emulator with a personality slower
 * than the datasheet, standing in for a real board) runs upload → test → reset (the swap)
 * → confirm → reset; its timing lines go into the night history, `hil calibrate` makes the
 * overlay, and an emulated board loading it from a rig file takes, in virtual device time,
 * within 5 % of the timed run for the swap and the upload. Uncalibrated it is far off.
 */
describe("hil calibrate: a calibrated emulated nRF52840 keeps the timed board's pace", function () {
  this.timeout(60_000);
  const previous = operationObserver();
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "hil-calibrate-nrf-"));
  });
  afterEach(async () => {
    timeOperationsOn(undefined);
    observeOperations(previous);
    await rm(dir, { recursive: true, force: true });
  });

  const v1 = app("1.0.0", 20_000);
  const v2 = app("1.1.0", 20_000);
  const SECTORS = Math.ceil(v2.length / 4096);

  it("swap and upload: calibrated device time within 5 % of the timed run", async () => {
    // The timed board: slower erase and writes than the datasheet, a boot of 150 ms, and a
    // console line of 0.1 ms a byte (what 115200 baud costs base64 SMP frames).
    const clock = new WallClock();
    const timed = new Nrf52840McubootDevice({
      clock,
      seed: 7,
      options: {
        keys: [publicOf(goodKey)],
        timing: { pageEraseMs: 120, wordWriteMs: 0.06, bootloaderMs: 150, uploadByteMs: 0.1 },
      },
    });
    timed.program(timed.layout.primary.offset, v1);
    await timed.power.on();
    const lab = {
      id: "lab-nrf",
      family: "nrf52840",
      emulated: false,
      clock,
      info: {},
      emulator: timed,
    } as unknown as Board;
    const lines = await timedUpdate(lab, v2, previous);
    const swap = one(lines, "MCUboot swap");
    const upload = one(lines, "MCUboot image upload");
    expect(swap.units).to.equal(SECTORS);
    expect(upload.units).to.equal(v2.length / 1024);
    expect(one(lines, "MCUboot reset").units).to.equal(1);

    const written = await calibrateFrom(lines, dir, "lab-nrf");
    expect(Object.keys(written.timing).sort()).to.deep.equal(["bootloaderMs", "pageEraseMs", "uploadByteMs"]);
    // The erase absorbs the slower writes (3075 words a sector at 0.019 ms more ≈ 19.5 ms per
    // erase) and the wall clock's lateness; the line figure the writes' and the server's.
    expect(written.timing.pageEraseMs).to.be.within(125, 250);
    expect(written.timing.uploadByteMs).to.be.within(0.1, 0.2);

    const calibrated = await rigBoard(dir, `{ calibration: lab-nrf.calibration.json, ${KEY_OPTIONS} }`, v1);
    const vlines = await timedUpdate(calibrated, v2, previous);
    expectReplayed(lines, vlines, ["MCUboot swap", "MCUboot image upload"]);

    // Uncalibrated, the datasheet's figures are far off this board.
    const plain = await rigBoard(dir, `{ ${KEY_OPTIONS} }`, v1);
    const plines = await timedUpdate(plain, v2, previous);
    expect(one(plines, "MCUboot swap").ms / swap.ms).to.be.lessThan(0.85);
    expect(one(plines, "MCUboot image upload").ms / upload.ms).to.be.lessThan(0.5);
  });
});
