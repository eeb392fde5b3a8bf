/**
 * TKey timing and calibration: the emulated TKey takes a timing overlay (per-frame, hash,
 * app start and boot times), `hil calibrate` derives its per-frame figure from a timed key's
 * app loads, and an emulated board loading the overlay takes that key's device time.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { main } from "../../harness/cli/main.js";
import { observeOperations, operationObserver } from "../../harness/clients/operation.js";
import { TKeyClient } from "../../harness/clients/tkey/index.js";
import { emulatorOperationMs } from "../../harness/devices/operation-profile.js";
import { EmulatorOptionError } from "../../harness/devices/option-error.js";
import { TKEY_TIMING, TKeyDevice } from "../../harness/devices/tkey/index.js";
import { startEmulator } from "../../harness/expose/emulator-process.js";
import { type TimingLine, timeOperationsOn, timingOperations } from "../../harness/mocha/timing-hooks.js";
import { CALIBRATION_FORMAT } from "../../harness/report/calibration.js";
import { TKEY_FRAME_LINE_MS } from "../../harness/report/calibration-figures.js";
import { appendNight, NIGHT_FORMAT } from "../../harness/report/night-history.js";
import { summariseTiming } from "../../harness/report/operation-timing.js";
import type { Board } from "../../harness/rig/board.js";
import { loadRigFileSync } from "../../harness/rig/load.js";
import { buildRig } from "../../harness/rig/rig.js";
import { openTKeyLink } from "../../harness/rig/tkey-link.js";
import { VirtualClock } from "../../harness/sim/virtual-clock.js";
import type { Clock } from "../../harness/transport/clock.js";
import { byIdDirHooks } from "../rig/lab-emulators.js";

const KB = 1024;
const app = (n: number, salt: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + salt) & 0xff);

/** The timing lines of the client operations `body` runs, timed on a board with `clock`. */
async function timed(
  board: { id: string; clock: Clock; family?: string; emulated?: boolean },
  body: () => Promise<unknown>,
): Promise<TimingLine[]> {
  const previous = operationObserver();
  const lines: TimingLine[] = [];
  observeOperations(
    timingOperations(
      (_s, _t, run) => run({ retitle() {} }),
      (l) => lines.push(l),
    ),
  );
  timeOperationsOn({ family: "tkey", emulated: false, info: {}, ...board } as unknown as Board);
  try {
    await body();
  } finally {
    timeOperationsOn(undefined);
    observeOperations(previous);
  }
  return lines;
}

const perUnit = (lines: readonly TimingLine[], op: string) => {
  const l = lines.find((x) => x.op === op);
  if (!l) throw new Error(`no "${op}" line in ${JSON.stringify(lines)}`);
  return l.ms / l.units;
};

describe("devices/tkey: a timing overlay", () => {
  it("refuses a key the TKey does not time, or a figure that is not positive, naming it", () => {
    const build = (timing: unknown) =>
      new TKeyDevice({ clock: new VirtualClock(), seed: 1, options: { timing } });
    expect(() => build({ pageEraseMs: 3 })).to.throw(
      EmulatorOptionError,
      "emulator option timing.pageEraseMs: expected one of byteMs, bootMs, frameMs, hashMsPerKb, appStartMs",
    );
    expect(() => build({ frameMs: 0 })).to.throw(
      EmulatorOptionError,
      "emulator option timing.frameMs: expected a positive number of ms, got 0",
    );
    expect(() => build({ hashMsPerKb: "slow" })).to.throw(EmulatorOptionError, "timing.hashMsPerKb");
    expect(() => build([1])).to.throw(EmulatorOptionError, "emulator option timing: expected an object");
    expect(build({ frameMs: 12.5 }).timing).to.deep.equal({ ...TKEY_TIMING, frameMs: 12.5 });
    expect(build(undefined).timing).to.deep.equal(TKEY_TIMING);
  });

  it("charges boot, per-frame, hash and app-start time on the device clock as the overlay says", async () => {
    const timing = { bootMs: 250, frameMs: 7, hashMsPerKb: 4, appStartMs: 60 };
    const measure = async (overlay: Record<string, number> | undefined) => {
      const clock = new VirtualClock();
      const dev = new TKeyDevice({ clock, seed: 2, options: overlay ? { timing: overlay } : {} });
      const t0 = clock.now();
      await dev.power.on();
      const boot = clock.now() - t0;
      const client = new TKeyClient(dev.port("tkey"), { clock });
      const t1 = clock.now();
      await client.loadApp(app(8 * KB, 1));
      const load = clock.now() - t1;
      // The app answers (NOK to the probe) only once it has started.
      const t2 = clock.now();
      await client.probe();
      return { boot, load, probe: clock.now() - t2 };
    };
    const plain = await measure(undefined);
    const slow = await measure(timing);
    const frames = 1 + Math.ceil((8 * KB) / 127);
    expect(plain.boot).to.equal(TKEY_TIMING.bootMs);
    expect(slow.boot).to.equal(250);
    expect(slow.load - plain.load).to.be.closeTo(frames * 7 + 8 * 4, 1e-6);
    expect(slow.probe - plain.probe).to.be.closeTo(60 + 7, 1e-6);
  });

  it("the figure calibration takes off per frame is the emulator's line time of a chunk and its reply", async () => {
    for (const frameMs of [undefined, 3, 40]) {
      const clock = new VirtualClock();
      const dev = new TKeyDevice({ clock, seed: 3, options: frameMs ? { timing: { frameMs } } : {} });
      await dev.power.on();
      const client = new TKeyClient(dev.port("tkey"), { clock });
      const lines = await timed({ id: "t", clock }, () => client.loadApp(app(127 * 200, 2)));
      // 200 chunks; the last one's reply is 124 bytes longer (the digest), spread over them.
      const lastReplyExtra = (124 * TKEY_TIMING.byteMs) / 200;
      expect(perUnit(lines, "TKey app data") - (frameMs ?? 0) - lastReplyExtra).to.be.closeTo(
        TKEY_FRAME_LINE_MS,
        1e-6,
      );
      expect(emulatorOperationMs({ family: "tkey" }, "TKey app data")).to.be.closeTo(
        TKEY_FRAME_LINE_MS,
        1e-9,
      );
    }
  });
});

describe("hil calibrate: a calibrated emulated TKey keeps the timed key's pace", function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "hil-tkey-calibrate-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("a 40 KB app load: calibrated device time within 5 % of the timed key's, uncalibrated far off", async () => {
    // The timed key, standing in for a real one: 15 ms a frame besides the line (USB latency
    // through the CH552), 3 ms a KiB of hash, 40 ms to start the app: none of them the defaults.
    const clock = new VirtualClock();
    const key = new TKeyDevice({
      clock,
      seed: 9,
      options: { timing: { frameMs: 15, hashMsPerKb: 3, appStartMs: 40 } },
    });
    await key.power.on();
    const client = new TKeyClient(key.port("tkey"), { clock });
    const size = 40 * KB;
    const lines = await timed({ id: "lab-tkey", clock }, () => client.loadApp(app(size, 3)));
    const load = lines.find((l) => l.op === "TKey app load");
    expect(load?.units).to.equal(40);
    expect(lines.find((l) => l.op === "TKey app data")?.units).to.equal(Math.ceil(size / 127));

    const history = join(dir, "hil-history.jsonl");
    await appendNight(history, {
      format: NIGHT_FORMAT,
      at: "2026-01-01T02:00:00.000Z",
      timing: summariseTiming(lines, () => ({
        family: "tkey",
        emulated: false,
        identity: { firmware: "5" },
      })),
    });
    const overlay = join(dir, "lab-tkey.calibration.json");
    const err = console.error;
    console.error = () => {};
    try {
      expect(
        await main(["calibrate", "--history", history, "--board", "lab-tkey", "--out", overlay]),
      ).to.equal(0);
    } finally {
      console.error = err;
    }
    const written = JSON.parse(await readFile(overlay, "utf8"));
    expect(written).to.include({ format: CALIBRATION_FORMAT, board: "lab-tkey", family: "tkey" });
    expect(Object.keys(written.timing)).to.deep.equal(["frameMs"]);
    // 15 ms a frame, plus the hash and the last reply's digest spread over 323 frames.
    expect(written.timing.frameMs).to.be.within(15, 16);
    expect(written.sources.frameMs).to.include(
      `less the emulator's ${TKEY_FRAME_LINE_MS} ms line time of a chunk and its reply per unit`,
    );

    // The calibrated emulated board, from a rig file naming the overlay beside it.
    const rigPath = join(dir, "rig.yaml");
    const rigText = (emulated: string) =>
      [
        "name: calibrated",
        "boards:",
        "  - id: tkey-cal",
        "    family: tkey",
        "    capabilities: []",
        `    emulated: ${emulated}`,
        "",
      ].join("\n");
    const deviceMs = async (emulated: string) => {
      await writeFile(rigPath, rigText(emulated));
      const [board] = buildRig(loadRigFileSync(rigPath), rigPath).boards;
      if (!board) throw new Error("no board");
      await board.power.on();
      const c = new TKeyClient(await openTKeyLink(board), { clock: board.clock });
      const t0 = board.clock.now();
      await c.loadApp(app(size, 4));
      return board.clock.now() - t0;
    };
    const calibrated = await deviceMs("{ calibration: lab-tkey.calibration.json }");
    expect(
      calibrated / load!.ms,
      `calibrated ${calibrated.toFixed(0)} ms of device time, timed ${load!.ms.toFixed(0)} ms`,
    ).to.be.within(0.95, 1.05);
    // Uncalibrated, the line time alone is far from this key: the overlay is what matches.
    expect((await deviceMs("{}")) / load!.ms).to.be.below(0.7);
  });
});

describe("hil emulate tkey --calibration", function () {
  this.timeout(60_000);
  const byId = byIdDirHooks();

  it("refuses a calibration with a figure the TKey does not time, naming it (exit 2)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hil-emulate-tkey-cal-"));
    const err = console.error;
    const said: string[] = [];
    console.error = (...a: unknown[]) => said.push(a.join(" "));
    try {
      const file = join(dir, "l432.json");
      await writeFile(file, JSON.stringify({ format: CALIBRATION_FORMAT, timing: { pageEraseMs: 22 } }));
      const code = await main(["emulate", "tkey", "--uart-pty", join(dir, "tty"), "--calibration", file]);
      expect(code).to.equal(2);
      expect(said.join("\n")).to.include("emulator option timing.pageEraseMs: expected one of byteMs");
    } finally {
      console.error = err;
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("serves a key with the calibration's figures", async () => {
    const file = join(byId.dir, "tkey.json");
    await writeFile(file, JSON.stringify({ format: CALIBRATION_FORMAT, timing: { frameMs: 15.5 } }));
    const emulator = await startEmulator("tkey", join(byId.dir, "tkey-pty"), ["--calibration", file]);
    const { exitCode } = await emulator.stop();
    expect(exitCode).to.equal(0);
    expect(emulator.log()).to.match(/ms timing: overlay frameMs 15\.5$/m);
  });
});
