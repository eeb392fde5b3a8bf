/**
 * The nRF52840 update the calibration proofs time (upload → test → reset, the swap →
 * confirm → reset), and the steps from its timing lines to a calibrated emulated board:
 * night history, `hil calibrate`, a rig file naming the overlay.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "chai";
import { main } from "../../harness/cli/main.js";
import { type OperationObserver, observeOperations } from "../../harness/clients/operation.js";
import { type TimingLine, timeOperationsOn, timingOperations } from "../../harness/mocha/timing-hooks.js";
import { formatVersion, parseImage } from "../../harness/protocol/mcuboot/index.js";
import { appendNight, NIGHT_FORMAT } from "../../harness/report/night-history.js";
import { summariseTiming } from "../../harness/report/operation-timing.js";
import type { Board } from "../../harness/rig/board.js";
import { loadRigFileSync } from "../../harness/rig/load.js";
import { buildRig } from "../../harness/rig/rig.js";
import { SmpLink } from "../../harness/rig/smp-link.js";

/** The readiness probe decides how finely the host sees the application come back. */
export const LINK = { probeMs: 50 } as const;

/** upload → test → reset (swap) → confirm → reset, every operation timed on the board's clock. */
export async function timedUpdate(
  board: Board,
  v2: Uint8Array,
  previous: OperationObserver | undefined,
): Promise<TimingLine[]> {
  const lines: TimingLine[] = [];
  observeOperations(
    timingOperations(
      (_s, _t, body) => body({ retitle() {} }),
      (l) => lines.push(l),
    ),
  );
  const link = await SmpLink.connect(board, LINK);
  timeOperationsOn(board);
  try {
    await link.client.upload(v2);
    await link.client.test(parseImage(v2).hash!);
    await link.reset();
    const active = (await link.client.list()).find((i) => i.active);
    expect(active?.version, "running after the swap").to.equal(formatVersion(parseImage(v2).header.version));
    await link.client.confirm();
    await link.reset();
    expect((await link.client.list()).find((i) => i.active)?.confirmed).to.equal(true);
  } finally {
    timeOperationsOn(undefined);
    observeOperations(previous);
    await link.close();
  }
  return lines;
}

/** The one line of `op` (the update does each timed operation once). */
export function one(lines: readonly TimingLine[], op: string): TimingLine {
  const found = lines.filter((l) => l.op === op);
  expect(found, op).to.have.length(1);
  return found[0] as TimingLine;
}

/** Each of `ops` took the calibrated board within 5 % of the device time it took the timed one. */
export function expectReplayed(
  timed: readonly TimingLine[],
  calibrated: readonly TimingLine[],
  ops: readonly string[],
): void {
  for (const op of ops) {
    const ratio = one(calibrated, op).ms / one(timed, op).ms;
    expect(
      ratio,
      `${op}: calibrated ${one(calibrated, op).ms.toFixed(0)} ms of device time, timed ${one(timed, op).ms.toFixed(0)} ms`,
    ).to.be.within(0.95, 1.05);
  }
}

/** The lines as a night of `history`, then `hil calibrate` for `board` into FILE; returns FILE's JSON. */
export async function calibrateFrom(
  lines: readonly TimingLine[],
  dir: string,
  board: string,
): Promise<{ file: string; timing: Record<string, number> }> {
  const history = join(dir, "hil-history.jsonl");
  await appendNight(history, {
    format: NIGHT_FORMAT,
    at: "2026-01-01T02:00:00.000Z",
    timing: summariseTiming(lines, () => ({ family: "nrf52840", emulated: false })),
  });
  const file = join(dir, `${board}.calibration.json`);
  const err = console.error;
  console.error = () => {};
  try {
    expect(await main(["calibrate", "--history", history, "--board", board, "--out", file])).to.equal(0);
  } finally {
    console.error = err;
  }
  return { file, timing: JSON.parse(await readFile(file, "utf8")).timing };
}

/** An emulated nRF52840 from a rig file in `dir` with `emulated` as its entry, at factory state with `v1`. */
export async function rigBoard(dir: string, emulated: string, v1: Uint8Array): Promise<Board> {
  const rigPath = join(dir, "rig.yaml");
  await writeFile(
    rigPath,
    [
      "name: calibrated",
      "boards:",
      "  - id: nrf-cal",
      "    family: nrf52840",
      "    capabilities: [usart, inspect]",
      `    emulated: ${emulated}`,
      "",
    ].join("\n"),
  );
  const [board] = buildRig(loadRigFileSync(rigPath), rigPath).boards;
  if (!board) throw new Error("no board");
  await board.strategy.factoryReset({ image: v1 });
  return board;
}

/** A rig file's emulated options with update-hil's test-only key. */
export const KEY_OPTIONS = "options: { key: fixtures/mcuboot/test-only-ecdsa-p256.pub.pem }";
