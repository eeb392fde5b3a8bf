import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { buildFusImage, STACK_2, v } from "../../fixtures/fus/build.js";
import { main } from "../../harness/cli/main.js";
import { observeOperations, operationObserver } from "../../harness/clients/operation.js";
import { emulatorOperationMs } from "../../harness/devices/operation-profile.js";
import { FUS_OVERLAY_KEYS, FUS_TIMING } from "../../harness/devices/stm32/fus/timing.js";
import { startUsbipEmulator } from "../../harness/expose/usbip-process.js";
import { type TimingLine, timeOperationsOn, timingOperations } from "../../harness/mocha/timing-hooks.js";
import { buildCalibration, CALIBRATION_FORMAT } from "../../harness/report/calibration.js";
import { FUS_PATH_OVERHEAD_MS, figuresFor } from "../../harness/report/calibration-figures.js";
import { appendNight, NIGHT_FORMAT, type NightRecord } from "../../harness/report/night-history.js";
import { summariseTiming } from "../../harness/report/operation-timing.js";
import type { Board } from "../../harness/rig/board.js";
import { loadRigFileSync } from "../../harness/rig/load.js";
import { buildRig } from "../../harness/rig/rig.js";
import type { Clock } from "../../harness/transport/clock.js";
import { factoryReset, openFus } from "../../suites/stm32-fus/fixture.js";
import { fusBench } from "../devices/stm32-fus/helpers.js";

/** Client operations `work` runs, timed as hil run times them on `board`. */
async function timed(
  board: { id: string; clock: Clock; emulated: boolean },
  work: () => Promise<unknown>,
): Promise<TimingLine[]> {
  const previous = operationObserver();
  const lines: TimingLine[] = [];
  observeOperations(
    timingOperations(
      (_s, _t, body) => body({ retitle() {} }),
      (l) => lines.push(l),
    ),
  );
  timeOperationsOn({ family: "stm32wb55", info: {}, ...board } as unknown as Board);
  try {
    await work();
  } finally {
    timeOperationsOn(undefined);
    observeOperations(previous);
  }
  return lines;
}

const ms = (lines: TimingLine[], op: string) => {
  const l = lines.find((x) => x.op === op);
  if (!l) throw new Error(`no "${op}" among ${lines.map((x) => x.op).join(", ")}`);
  return l;
};

describe("report/calibration-figures: the emulator's FUS path beside its figures", () => {
  it("adds the overheads calibration takes off to the FUS figures, whatever the figures and the image", async () => {
    const o = FUS_PATH_OVERHEAD_MS;
    for (const [timing, image, fusSide] of [
      [{}, STACK_2(), false],
      [
        { fusVerifyMs: 3100, fusInstallPerSectorMs: 150, fusFirstGetStateAfterInstallMs: 2400 },
        buildFusImage({ kind: "wireless-stack", version: v(1, 0, 0), sectors: 5, label: "s5" }),
        false,
      ],
      [{ fusVerifyMs: 777.5, fusUpgradePerSectorMs: 321 }, FUS_2_8(), true],
    ] as const) {
      // Polled finely, the host sees each reset as it happens: the path alone is left.
      const { clock, client } = await fusBench("usb-dfu", {
        factoryStack: false,
        options: { timing },
        client: { pollIntervalMs: 5 },
      });
      const lines = await timed({ id: "wb55", clock, emulated: true }, () => client.fwUpgrade(image));
      const f = { ...FUS_TIMING, ...rename(timing) };
      expect(ms(lines, "FUS install: verify and first reset").ms - f.verifyMs).to.be.closeTo(o.verify, 0.01);
      const program = ms(lines, fusSide ? "FUS upgrade: program" : "FUS install: program");
      const perSector = fusSide
        ? f.fusUpgradePerSectorMs + o.fusUpgradePerSector
        : f.installPerSectorMs + o.installPerSector;
      expect(program.ms - program.units * perSector).to.be.closeTo(o.programPerRun, 0.01);
      if (!fusSide)
        expect(ms(lines, "FUS stack start").ms - f.firstGetStateAfterInstallMs).to.be.closeTo(
          o.stackStart,
          0.01,
        );
    }
    // FW_DELETE's and START_WS's preparation ends as the verify does: a reset and the way back.
    for (const fusPrepareMs of [500, 1234.5]) {
      const { clock, client } = await fusBench("usb-dfu", {
        options: { timing: { fusPrepareMs } },
        client: { pollIntervalMs: 5 },
      });
      const lines = await timed({ id: "wb55", clock, emulated: true }, async () => {
        await client.fwDelete();
        await client.fwUpgrade(STACK_2());
        await client.startFus();
        await client.startWirelessStack();
      });
      const prepares = lines.filter((l) => l.op === "FUS prepare and reset");
      expect(prepares).to.have.length(2);
      for (const p of prepares) expect(p.ms - fusPrepareMs).to.be.closeTo(o.verify, 0.01);
    }
  });

  it("a WB55 calibrates FUS figures beside the DFU ones, each saying where it came from; an L432 none", () => {
    const night = (n: number, family: string): NightRecord => ({
      format: NIGHT_FORMAT,
      at: new Date(Date.UTC(2026, 0, 1 + n, 2)).toISOString(),
      timing: summariseTiming(
        [
          { board: "lab", op: "FUS install: verify and first reset", units: 1, ms: 3000 + n * 100 },
          // Two runs of 10 sectors: less 50 ms a run, less 63.984 a sector → 200 ms.
          { board: "lab", op: "FUS install: program", units: 10, ms: 50 + 10 * 263.984 },
          { board: "lab", op: "FUS install: program", units: 10, ms: 50 + 10 * 263.984 },
          { board: "lab", op: "FUS stack start", units: 1, ms: 2006.024 },
          { board: "lab", op: "FUS prepare and reset", units: 1, ms: 802.384 },
          { board: "lab", op: "page erase", units: 10, ms: 250 },
        ],
        () => ({ family, emulated: false }),
      ),
    });
    const c = buildCalibration(
      [night(0, "stm32wb55"), night(1, "stm32wb55"), night(2, "stm32wb55")],
      "lab",
      "h",
    );
    expect(c.timing.fusVerifyMs).to.be.closeTo(3100 - FUS_PATH_OVERHEAD_MS.verify, 1e-6);
    expect(c.timing.fusInstallPerSectorMs).to.be.closeTo(200, 1e-6);
    expect(c.timing.fusFirstGetStateAfterInstallMs).to.be.closeTo(2000, 1e-6);
    expect(c.timing.fusPrepareMs).to.be.closeTo(500, 1e-6);
    expect(c.timing.pageEraseMs).to.equal(22);
    expect(c.sources.fusInstallPerSectorMs).to.match(
      /^median of "FUS install: program" per unit on lab over 3 nights .*, 60 4 KB sectors, less the emulator's 50 ms FUS path per run, less the emulator's 63.984 ms FUS path per unit/,
    );
    const l432 = buildCalibration([night(0, "stm32l432")], "lab", "h");
    expect(Object.keys(l432.timing)).to.deep.equal(["pageEraseMs"]);
    expect(figuresFor("stm32l432").some((f) => f.key.startsWith("fus"))).to.equal(false);
  });

  it("the timing report's emulator column has the WB55's FUS phases, per sector with the flash", () => {
    const wb55 = { family: "stm32wb55" };
    expect(emulatorOperationMs(wb55, "FUS install: verify and first reset")).to.equal(FUS_TIMING.verifyMs);
    expect(emulatorOperationMs(wb55, "FUS install: program")).to.be.closeTo(
      FUS_TIMING.installPerSectorMs + 22 + 512 * 0.082,
      1e-9,
    );
    expect(emulatorOperationMs(wb55, "FUS upgrade: program")).to.be.closeTo(
      FUS_TIMING.fusUpgradePerSectorMs + 2 * 22 + 512 * 0.082,
      1e-9,
    );
    expect(emulatorOperationMs(wb55, "FUS stack start")).to.equal(FUS_TIMING.firstGetStateAfterInstallMs);
    expect(emulatorOperationMs(wb55, "FUS prepare and reset")).to.equal(FUS_TIMING.prepareMs);
    expect(emulatorOperationMs({ family: "stm32l432" }, "FUS install: program")).to.equal(undefined);
  });
});

/**
 * The FUS side of the done-when: a board standing in for a real WB55 (the emulator on a
 * virtual clock with FUS figures unlike FUS_TIMING: a real install takes tens of seconds)
 * installs a stack over USB DFU with the client's 1 s poll; its timing lines go into the
 * history, hil calibrate makes the overlay, and an emulated board loading it from a rig file
 * takes, in device time, within 5 % of the timed install.
 */
describe("hil calibrate: a calibrated emulated WB55 keeps the timed board's FUS install pace", function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "hil-fus-calibrate-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("stack install: calibrated device time within 5 % of the timed run, uncalibrated far off", async () => {
    const personality = {
      fusVerifyMs: 3100,
      fusInstallPerSectorMs: 150,
      fusFirstGetStateAfterInstallMs: 2400,
    };
    const lab = await fusBench("usb-dfu", { factoryStack: false, options: { timing: personality } });
    const lines = await timed({ id: "lab-wb55", clock: lab.clock, emulated: false }, () =>
      lab.client.fwUpgrade(STACK_2()),
    );
    const install = ms(lines, "FUS install");
    expect(ms(lines, "FUS install: program").units).to.equal(32);

    const history = join(dir, "hil-history.jsonl");
    await appendNight(history, {
      format: NIGHT_FORMAT,
      at: "2026-01-01T02:00:00.000Z",
      timing: summariseTiming(lines, () => ({ family: "stm32wb55", emulated: false })),
    });
    const overlay = join(dir, "lab-wb55.calibration.json");
    const err = console.error;
    console.error = () => {};
    try {
      expect(
        await main(["calibrate", "--history", history, "--board", "lab-wb55", "--out", overlay]),
      ).to.equal(0);
    } finally {
      console.error = err;
    }
    const written = JSON.parse(await readFile(overlay, "utf8"));
    expect(written.format).to.equal(CALIBRATION_FORMAT);
    expect(Object.keys(written.timing)).to.include.members([
      "fusVerifyMs",
      "fusInstallPerSectorMs",
      "fusFirstGetStateAfterInstallMs",
    ]);
    // Per sector and the stack's start come back as the board has them; the verify as the poll saw its reset.
    expect(written.timing.fusInstallPerSectorMs).to.be.closeTo(150, 30);
    expect(written.timing.fusFirstGetStateAfterInstallMs).to.be.closeTo(2400, 1e-6);
    expect(written.timing.fusVerifyMs).to.be.within(3100, 3100 + 1010);
    expect(written.sources.fusVerifyMs).to.include('"FUS install: verify and first reset"');

    const rigPath = join(dir, "rig.yaml");
    const rig = (emulated: string) =>
      [
        "name: calibrated",
        "boards:",
        "  - id: wb55-cal",
        "    family: stm32wb55",
        "    capabilities: [usb-dfu, fus, inspect]",
        `    emulated: ${emulated}`,
        "",
      ].join("\n");
    const installOn = async (emulated: string): Promise<number> => {
      await writeFile(rigPath, rig(emulated));
      const [board] = buildRig(loadRigFileSync(rigPath), rigPath).boards;
      if (!board) throw new Error("no board");
      await factoryReset(board, { stack: false });
      const client = await openFus(board, "usb-dfu");
      const l = await timed(board, () => client.fwUpgrade(STACK_2()));
      await client.close();
      return ms(l, "FUS install").ms;
    };
    const calibrated = await installOn("{ calibration: lab-wb55.calibration.json }");
    expect(
      calibrated / install.ms,
      `calibrated ${calibrated.toFixed(0)} ms of device time, timed ${install.ms.toFixed(0)} ms`,
    ).to.be.within(0.95, 1.05);
    // Uncalibrated, FUS_TIMING is far off this board: the overlay is what matches.
    const plain = await installOn("{}");
    expect(plain / install.ms, `uncalibrated ${plain.toFixed(0)} ms`).to.be.greaterThan(1.2);
  });

  it("hil emulate stm32wb55 --calibration: a served WB55 takes the FUS figures (ready, then a clean stop)", async () => {
    const file = join(dir, "cal.json");
    await writeFile(
      file,
      JSON.stringify({
        format: CALIBRATION_FORMAT,
        timing: { pageEraseMs: 22, fusVerifyMs: 3000, fusInstallPerSectorMs: 130, fusPrepareMs: 400 },
      }),
    );
    const emu = await startUsbipEmulator("stm32wb55", ["--calibration", file], { log: false });
    expect(emu.busid).to.equal("1-1");
    expect((await emu.stop()).exitCode).to.equal(0);
  });

  it("hil emulate --calibration: a WB55 overlay on an L432 is refused naming the FUS key (exit 2)", async () => {
    const file = join(dir, "cal.json");
    await writeFile(file, JSON.stringify({ format: CALIBRATION_FORMAT, timing: { fusVerifyMs: 3000 } }));
    const err = console.error;
    const said: string[] = [];
    console.error = (...a: unknown[]) => said.push(a.join(" "));
    try {
      expect(await main(["emulate", "stm32l432", "--usbip", "0", "--calibration", file])).to.equal(2);
    } finally {
      console.error = err;
    }
    expect(said.join("\n")).to.match(/timing\.fusVerifyMs: .*FUS figures only on a stm32wb55/);
  });
});

/** A FUS 2.8 image of 8 sectors (a FUS upgrade on the factory FUS 1.2.0). */
function FUS_2_8(): Uint8Array {
  return buildFusImage({ kind: "fus", version: v(2, 8, 0), sectors: 8, label: "fus-2.8" });
}

/** Overlay keys (fusVerifyMs) as FusTiming keys (verifyMs). */
function rename(timing: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, val] of Object.entries(timing)) out[FUS_OVERLAY_KEYS[k] ?? k] = val;
  return out;
}
