import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { main } from "../../harness/cli/main.js";
import { DfuClient } from "../../harness/clients/dfu/client.js";
import { observeOperations, operationObserver } from "../../harness/clients/operation.js";
import { Stm32Device } from "../../harness/devices/stm32/device.js";
import { attachUsbDfu, EmulatedUsbBus } from "../../harness/devices/stm32/dfu/index.js";
import { type TimingLine, timeOperationsOn, timingOperations } from "../../harness/mocha/timing-hooks.js";
import { buildCalibration, CALIBRATION_FORMAT, parseCalibration } from "../../harness/report/calibration.js";
import { DFU_PATH_OVERHEAD_MS } from "../../harness/report/calibration-figures.js";
import { appendNight, NIGHT_FORMAT, type NightRecord } from "../../harness/report/night-history.js";
import { summariseTiming } from "../../harness/report/operation-timing.js";
import type { Board } from "../../harness/rig/board.js";
import { loadRigFileSync } from "../../harness/rig/load.js";
import { buildRig } from "../../harness/rig/rig.js";
import { WallClock } from "../../harness/transport/clock.js";
import { appImage, asFile, connect, startInBootloader } from "../../suites/stm32-dfu/fixture.js";

const KB = 1024;
const ROM = { vendorId: 0x0483, productId: 0xdf11 };

const night = (n: number, ops: Record<string, [units: number, ms: number]>): NightRecord => ({
  format: NIGHT_FORMAT,
  at: new Date(Date.UTC(2026, 0, 1 + n, 2)).toISOString(),
  timing: summariseTiming(
    Object.entries(ops).map(([op, [units, ms]]) => ({ board: "lab-l432", op, units, ms })),
    () => ({ family: "stm32l432", emulated: false, identity: { bootloader: "V9.1 (0x91)" } }),
  ),
});

describe("report/calibration: a lab board's times as the emulator's figures", () => {
  it("takes medians per unit over the nights, program time per double word, and says where each came from", () => {
    const nights = [
      night(0, { "page erase": [10, 250], "block program": [100, 2560] }),
      night(1, { "page erase": [10, 260], "block program": [100, 2400] }),
      night(2, { "page erase": [10, 240], "mass erase": [1, 30] }),
    ];
    const c = buildCalibration(nights, "lab-l432", "reports/hil-history.jsonl");
    expect(c.format).to.equal(CALIBRATION_FORMAT);
    // Page: 25 − 3.017 → 22; block: 24.8 − 5.106 → 20 ms of 256 double words.
    expect(c.timing).to.deep.equal({ pageEraseMs: 22, doubleWordProgramMs: 0.078125, massEraseMs: 30 });
    expect([c.family, c.identity, c.nights, c.from, c.to]).to.deep.equal([
      "stm32l432",
      { bootloader: "V9.1 (0x91)" },
      3,
      "2026-01-01T02:00:00.000Z",
      "2026-01-03T02:00:00.000Z",
    ]);
    expect(c.sources.pageEraseMs).to.equal(
      'median of "page erase" per unit on lab-l432 over 3 nights (2026-01-01T02:00:00.000Z – 2026-01-03T02:00:00.000Z), 30 pages, less the emulator\'s 3.017 ms DFU path per unit, in whole ms (25 → 22)',
    );
    expect(c.sources.doubleWordProgramMs).to.include("2048-byte blocks of 256 double words");
    expect(buildCalibration(nights, "lab-l432", "h", { lastNights: 1 }).timing).to.deep.equal({
      pageEraseMs: 21,
      massEraseMs: 30,
    });
  });

  it("refuses a board the history never timed, and a file that is not a calibration, naming it", () => {
    expect(() => buildCalibration([night(0, { "page erase": [1, 22] })], "lab-wb55", "h.jsonl")).to.throw(
      "h.jsonl: no night timed board 'lab-wb55'",
    );
    expect(() => parseCalibration('{"format":"x"}', "cal.json")).to.throw(
      'cal.json: format: expected "update-hil/calibration@1", got "x"',
    );
    expect(() =>
      parseCalibration(
        JSON.stringify({ format: CALIBRATION_FORMAT, timing: { pageEraseMs: -1 } }),
        "cal.json",
      ),
    ).to.throw("cal.json: timing.pageEraseMs: expected a positive number, got -1");
  });
});

/**
 * The done-when: a board timed on the wall clock (an emulator paced in wall time with a
 * personality slower than the datasheet, standing in for a real L432) runs a 256 KB DfuSe
 * update; hil report's summary of its operations goes into the history, hil calibrate makes
 * the overlay, and an emulated board loading it from a rig file takes, in virtual device
 * time, within 5 % of the timed run.
 */
describe("hil emulate --calibration", () => {
  it("refuses a file that is not a calibration before serving anything, naming it (exit 2)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hil-emulate-cal-"));
    const err = console.error;
    const lines: string[] = [];
    console.error = (...a: unknown[]) => lines.push(a.join(" "));
    try {
      const file = join(dir, "cal.json");
      await writeFile(file, JSON.stringify({ format: CALIBRATION_FORMAT, timing: { pageEraseMs: "fast" } }));
      const code = await main(["emulate", "stm32l432", "--usbip", "0", "--calibration", file]);
      expect(code).to.equal(2);
      expect(lines.join("\n")).to.include(
        `${file}: timing.pageEraseMs: expected a positive number, got "fast"`,
      );
    } finally {
      console.error = err;
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("report/calibration: the emulator's DFU path beside its figures", () => {
  it("adds the overheads calibration takes off, per page and per block, to the whole-ms figure", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hil-overhead-"));
    const previous = operationObserver();
    try {
      for (const [pageEraseMs, doubleWordProgramMs] of [
        [9, 0.03],
        [12.5, 0.0528],
        [40, 0.2],
      ] as const) {
        const rig = join(dir, "rig.yaml");
        await writeFile(
          rig,
          `name: x\nboards:\n  - id: b\n    family: stm32l432\n    capabilities: [usb-dfu]\n    emulated: { options: { timing: { pageEraseMs: ${pageEraseMs}, doubleWordProgramMs: ${doubleWordProgramMs} } } }\n`,
        );
        const [board] = buildRig(loadRigFileSync(rig), rig).boards;
        if (!board) throw new Error("no board");
        await startInBootloader(board);
        const client = await connect(board);
        const lines: TimingLine[] = [];
        observeOperations(
          timingOperations(
            (_s, _t, body) => body({ retitle() {} }),
            (l) => lines.push(l),
          ),
        );
        timeOperationsOn(board);
        await client.download(asFile("bin", 0x0800_0000, appImage(board, 64 * KB, "overhead")));
        timeOperationsOn(undefined);
        observeOperations(previous);
        const perUnit = (op: string) => {
          const l = lines.find((x) => x.op === op);
          return (l?.ms as number) / (l?.units as number);
        };
        expect(perUnit("page erase") - Math.ceil(pageEraseMs)).to.be.closeTo(
          DFU_PATH_OVERHEAD_MS["page erase"]!,
          0.01,
        );
        expect(perUnit("block program") - Math.ceil(256 * doubleWordProgramMs)).to.be.closeTo(
          DFU_PATH_OVERHEAD_MS["block program"]!,
          0.01,
        );
      }
    } finally {
      timeOperationsOn(undefined);
      observeOperations(previous);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a timing overlay key the emulator does not have, or a figure that is not positive", () => {
    const build = (timing: unknown) =>
      new Stm32Device({ clock: new WallClock(), seed: 1, profile: "stm32l432kc", options: { timing } });
    expect(() => build({ pageEraseMS: 3 })).to.throw(
      /emulator option timing.pageEraseMS: expected one of pageEraseMs/,
    );
    expect(() => build({ pageEraseMs: 0 })).to.throw(
      "emulator option timing.pageEraseMs: expected a positive number of ms, got 0",
    );
    expect(build({ pageEraseMs: 30 }).profile.timing.pageEraseMs).to.equal(30);
  });
});

describe("hil calibrate: a calibrated emulated board keeps the timed board's pace", function () {
  this.timeout(60_000);
  const previous = operationObserver();
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "hil-calibrate-"));
  });
  afterEach(async () => {
    timeOperationsOn(undefined);
    observeOperations(previous);
    await rm(dir, { recursive: true, force: true });
  });

  it("256 KB DFU update: calibrated device time within 5 % of the timed run", async () => {
    // The timed board: erase 9 ms a page, 0.03 ms a double word (not the profile's 22 / 0.082).
    const clock = new WallClock();
    const timed = new Stm32Device({
      clock,
      seed: 5,
      profile: "stm32l432kc",
      options: { timing: { pageEraseMs: 9, doubleWordProgramMs: 0.03, usbConnectMs: 20 } },
    });
    const port = attachUsbDfu(timed);
    await timed.power.on();
    const lines: TimingLine[] = [];
    observeOperations(
      timingOperations(
        (_s, _t, body) => body({ retitle() {} }),
        (l) => lines.push(l),
      ),
    );
    timeOperationsOn({
      id: "lab-l432",
      family: "stm32l432",
      emulated: false,
      clock,
      info: {},
    } as unknown as Board);
    const client = await DfuClient.open(new EmulatedUsbBus([port], clock), ROM, {
      clock,
      alt: 0,
      timeouts: { enumerateMs: 5000 },
    });
    const data = new Uint8Array(256 * KB).map((_, i) => (i * 7) & 0xff);
    await client.download(asFile("bin", 0x0800_0000, data));
    timeOperationsOn(undefined);
    observeOperations(previous);
    const update = lines.find((l) => l.op === "DFU download");
    expect(update?.units).to.equal(256);
    expect(lines.find((l) => l.op === "page erase")?.units).to.equal(128);
    expect(lines.find((l) => l.op === "block program")?.units).to.equal(128);

    const history = join(dir, "hil-history.jsonl");
    await appendNight(history, {
      format: NIGHT_FORMAT,
      at: "2026-01-01T02:00:00.000Z",
      timing: summariseTiming(lines, () => ({ family: "stm32l432", emulated: false })),
    });
    const overlay = join(dir, "lab-l432.calibration.json");
    const err = console.error;
    console.error = () => {};
    try {
      expect(
        await main(["calibrate", "--history", history, "--board", "lab-l432", "--out", overlay]),
      ).to.equal(0);
    } finally {
      console.error = err;
    }
    const written = JSON.parse(await readFile(overlay, "utf8"));
    // The timed board's own figures come back, to the whole ms a bwPollTimeout has: no less
    // than its flash takes (a loaded machine's late timers make them longer, not shorter).
    expect(written.timing.pageEraseMs).to.be.at.least(9);
    expect(written.timing.doubleWordProgramMs * 256).to.be.at.least(7);

    // The calibrated emulated board, from a rig file naming the overlay beside it.
    await writeFile(
      join(dir, "rig.yaml"),
      [
        "name: calibrated",
        "boards:",
        "  - id: l432-cal",
        "    family: stm32l432",
        "    capabilities: [usb-dfu, inspect]",
        "    emulated: { calibration: lab-l432.calibration.json }",
        "",
      ].join("\n"),
    );
    const rigPath = join(dir, "rig.yaml");
    const [board] = buildRig(loadRigFileSync(rigPath), rigPath).boards;
    if (!board) throw new Error("no board");
    await startInBootloader(board);
    const calibrated = await connect(board);
    const vlines: TimingLine[] = [];
    observeOperations(
      timingOperations(
        (_s, _t, body) => body({ retitle() {} }),
        (l) => vlines.push(l),
      ),
    );
    timeOperationsOn(board);
    const t0 = board.clock.now();
    await calibrated.download(asFile("bin", 0x0800_0000, appImage(board, 256 * KB, "calibrated")));
    const deviceMs = board.clock.now() - t0;
    const ratio = deviceMs / (update?.ms as number);
    expect(
      ratio,
      `calibrated ${deviceMs.toFixed(0)} ms of device time, timed ${update?.ms.toFixed(0)} ms`,
    ).to.be.within(0.95, 1.05);
    // Uncalibrated, the datasheet's figures are far off this board: the overlay is what matches.
    await writeFile(
      rigPath,
      (await readFile(rigPath, "utf8")).replace("{ calibration: lab-l432.calibration.json }", "{}"),
    );
    const [plain] = buildRig(loadRigFileSync(rigPath), rigPath).boards;
    if (!plain) throw new Error("no board");
    await startInBootloader(plain);
    const uncalibrated = await connect(plain);
    const p0 = plain.clock.now();
    await uncalibrated.download(asFile("bin", 0x0800_0000, appImage(plain, 256 * KB, "plain")));
    expect((plain.clock.now() - p0) / (update?.ms as number)).to.be.greaterThan(1.5);
  });
});
