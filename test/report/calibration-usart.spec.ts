/**
 * `hil calibrate` of a board timed over USART (AN3155 Write Memory): the figures are the
 * board's own program and erase times, its line time (8E1 at the rate its line ran at)
 * taken off, since an emulated board charges line time itself at its own link's rate. The
 * proof: an emulated board loading the overlay writes 64 KB in device time within 5 % of
 * the timed run. The timed board is an emulated board with other figures and a 230400-baud
 * line on the virtual clock (device time is what calibration reads; a lab board's wall time
 * comes in the same way, through the timing samples `hil run` writes).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { main } from "../../harness/cli/main.js";
import { observeOperations, operationObserver } from "../../harness/clients/operation.js";
import { UsartClient } from "../../harness/clients/stm32-usart/index.js";
import { emulatorOperationMs } from "../../harness/devices/operation-profile.js";
import { type TimingLine, timeOperationsOn, timingOperations } from "../../harness/mocha/timing-hooks.js";
import { appendNight, NIGHT_FORMAT } from "../../harness/report/night-history.js";
import { type BoardTimingNight, readTimingSamples } from "../../harness/report/operation-timing.js";
import type { Board } from "../../harness/rig/board.js";
import { loadRigFileSync } from "../../harness/rig/load.js";
import { buildRig } from "../../harness/rig/rig.js";
import { openUsartLink } from "../../harness/rig/usart-link.js";
import { Random } from "../../harness/sim/random.js";

const KB = 1024;
const FLASH = 0x0800_0000;
const BAUD = 230_400;

/** The first board of a one-board rig file written at `path`. */
async function boardOf(path: string, lines: string[]): Promise<Board> {
  await writeFile(path, ["name: usart-calibration", "boards:", ...lines, ""].join("\n"));
  const [board] = buildRig(loadRigFileSync(path), path).boards;
  if (!board) throw new Error("no board");
  return board;
}

/** Erase 32 pages and write 64 KB over the board's USART, every operation timed; the write's device time. */
async function update(board: Board, lines: TimingLine[]): Promise<number> {
  const previous = operationObserver();
  observeOperations(
    timingOperations(
      (_s, _t, body) => body({ retitle() {} }),
      (l) => lines.push(l),
    ),
  );
  timeOperationsOn(board);
  await board.power.on();
  const client = new UsartClient(await openUsartLink(board), { clock: board.clock });
  try {
    await client.probe();
    await client.erasePages([...Array(32).keys()]);
    const r = new Random(11);
    const image = Uint8Array.from({ length: 64 * KB }, () => r.byte());
    const t0 = board.clock.now();
    await client.write(FLASH, image);
    return board.clock.now() - t0;
  } finally {
    timeOperationsOn(undefined);
    observeOperations(previous);
    await client.close();
  }
}

/** The night `hil report` keeps from the timing samples (one JSON line per operation). */
async function nightOf(dir: string, lines: readonly TimingLine[]): Promise<BoardTimingNight[]> {
  const samples = join(dir, "samples.jsonl");
  await writeFile(samples, lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
  return readTimingSamples(samples);
}

async function calibrate(args: string[]): Promise<number> {
  const err = console.error;
  console.error = () => {};
  try {
    return await main(["calibrate", ...args]);
  } finally {
    console.error = err;
  }
}

describe("hil calibrate: a board timed over USART", function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "hil-calibrate-usart-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The timed board: erase 9 ms a page, 0.5 ms a double word, its line at 230400 baud. */
  async function timedRun(): Promise<{ lines: TimingLine[]; writeMs: number; history: string }> {
    const timed = await boardOf(join(dir, "timed.yaml"), [
      "  - id: lab-l432",
      "    family: stm32l432",
      "    capabilities: [usart]",
      "    emulated: { seed: 5, options: { timing: { pageEraseMs: 9, doubleWordProgramMs: 0.5 } } }",
      `    serial: { baudRate: ${BAUD} }`,
    ]);
    const lines: TimingLine[] = [];
    const writeMs = await update(timed, lines);
    const history = join(dir, "hil-history.jsonl");
    await appendNight(history, {
      format: NIGHT_FORMAT,
      at: "2026-01-01T02:00:00.000Z",
      timing: await nightOf(dir, lines),
    });
    return { lines, writeMs, history };
  }

  it("64 KB Write Memory: calibrated device time within 5 % of the timed run, at the timed line's rate", async () => {
    const { lines, writeMs, history } = await timedRun();
    const write = lines.find((l) => l.op === "USART write memory");
    expect(write?.units).to.equal(256);
    expect(write?.baudRate).to.equal(BAUD);

    const overlay = join(dir, "lab-l432.calibration.json");
    expect(await calibrate(["--history", history, "--board", "lab-l432", "--out", overlay])).to.equal(0);
    const written = JSON.parse(await readFile(overlay, "utf8"));
    // The timed board's own figures come back, its line time taken off at its rate.
    expect(written.usartBaud).to.equal(BAUD);
    expect(written.usartBaudFrom).to.match(/history/);
    expect(written.timing.doubleWordProgramMs).to.be.closeTo(0.5, 0.001);
    expect(written.timing.pageEraseMs).to.be.closeTo(9, 0.05);
    expect(written.sources.doubleWordProgramMs).to.include(`line time (8E1 at ${BAUD} baud)`);

    const rig = join(dir, "calibrated.yaml");
    const calibrated = await boardOf(rig, [
      "  - id: l432-cal",
      "    family: stm32l432",
      "    capabilities: [usart]",
      "    emulated: { calibration: lab-l432.calibration.json }",
      `    serial: { baudRate: ${BAUD} }`,
    ]);
    const deviceMs = await update(calibrated, []);
    expect(
      deviceMs / writeMs,
      `calibrated ${deviceMs.toFixed(0)} ms, timed ${writeMs.toFixed(0)} ms`,
    ).to.be.within(0.95, 1.05);
    // Uncalibrated, the datasheet's figures are far off this board: the overlay is what matches.
    const plain = await boardOf(rig, [
      "  - id: l432-plain",
      "    family: stm32l432",
      "    capabilities: [usart]",
      "    emulated: {}",
      `    serial: { baudRate: ${BAUD} }`,
    ]);
    expect((await update(plain, [])) / writeMs).to.be.lessThan(0.7);
  });

  it("a history without the rate takes --baud; a wrong rate leaves the line time in the figure", async () => {
    const { lines, writeMs, history } = await timedRun();
    const bare = join(dir, "bare-history.jsonl");
    await appendNight(bare, {
      format: NIGHT_FORMAT,
      at: "2026-01-01T02:00:00.000Z",
      timing: await nightOf(
        dir,
        lines.map(({ baudRate: _, ...l }) => l),
      ),
    });
    const withBaud = join(dir, "with-baud.json");
    expect(
      await calibrate(["--history", bare, "--board", "lab-l432", "--baud", String(BAUD), "--out", withBaud]),
    ).to.equal(0);
    const given = JSON.parse(await readFile(withBaud, "utf8"));
    expect(given).to.include({ usartBaud: BAUD, usartBaudFrom: "--baud" });
    expect(given.timing.doubleWordProgramMs).to.be.closeTo(0.5, 0.001);

    const assumed = join(dir, "assumed.json");
    expect(await calibrate(["--history", bare, "--board", "lab-l432", "--out", assumed])).to.equal(0);
    const wrong = JSON.parse(await readFile(assumed, "utf8"));
    expect(wrong.usartBaud).to.equal(115_200);
    expect(wrong.usartBaudFrom).to.match(/default/);
    // Twice the line time taken off: 268 bytes × (11/115200 − 11/230400) s less per block.
    const lessPerBlock = 268 * (11_000 / 115_200 - 11_000 / BAUD);
    expect(wrong.timing.doubleWordProgramMs).to.be.closeTo(0.5 - lessPerBlock / 32, 0.001);
    const board = await boardOf(join(dir, "wrong.yaml"), [
      "  - id: l432-wrong",
      "    family: stm32l432",
      "    capabilities: [usart]",
      `    emulated: { calibration: ${assumed} }`,
      `    serial: { baudRate: ${BAUD} }`,
    ]);
    expect((await update(board, [])) / writeMs).to.be.lessThan(0.95);
    expect(await calibrate(["--history", history, "--board", "lab-l432", "--baud", "fast"])).to.equal(2);
  });

  it("the emulator's figure per Write Memory and per Read Memory is what an emulated board takes, at its line's rate", async () => {
    for (const baud of [57_600, 115_200]) {
      const board = await boardOf(join(dir, `plain-${baud}.yaml`), [
        `  - id: l432-${baud}`,
        "    family: stm32l432",
        "    capabilities: [usart]",
        "    emulated: {}",
        `    serial: { baudRate: ${baud} }`,
      ]);
      const lines: TimingLine[] = [];
      await update(board, lines);
      const client = new UsartClient(await openUsartLink(board), { clock: board.clock });
      const previous = operationObserver();
      observeOperations(
        timingOperations(
          (_s, _t, body) => body({ retitle() {} }),
          (l) => lines.push(l),
        ),
      );
      timeOperationsOn(board);
      try {
        await client.probe();
        await client.read(FLASH, 16 * KB);
      } finally {
        timeOperationsOn(undefined);
        observeOperations(previous);
        await client.close();
      }
      const [night] = await nightOf(dir, lines);
      for (const op of ["USART write memory", "USART read memory"]) {
        const measured = night?.ops[op]?.msPerUnit as number;
        expect(
          emulatorOperationMs({ family: "stm32l432", baudRate: baud }, op),
          `${op} at ${baud}`,
        ).to.be.closeTo(measured, 0.01);
      }
    }
  });
});
