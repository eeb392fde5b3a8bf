/**
 * Calibration through the lab path: the "real" nRF52840 is a `hil emulate nrf52840` process
 * on a pty, slowed by a calibration file of its own (`--calibration`), its console the
 * nRF52840's own USB CDC ACM (the port vanishes at every reset and comes back with the
 * application), found by identity through a by-id directory and timed on the wall clock;
 * the overlay `hil calibrate` makes from that night brings an emulated board's virtual
 * time to it.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { main } from "../../harness/cli/main.js";
import { operationObserver } from "../../harness/clients/operation.js";
import { startEmulator } from "../../harness/expose/emulator-process.js";
import { timeOperationsOn } from "../../harness/mocha/timing-hooks.js";
import { CALIBRATION_FORMAT } from "../../harness/report/calibration.js";
import { parseRigFile, projectRoot } from "../../harness/rig/load.js";
import { buildRig } from "../../harness/rig/rig.js";
import { app } from "../devices/nrf52840/helpers.js";
import {
  calibrateFrom,
  expectReplayed,
  KEY_OPTIONS,
  one,
  rigBoard,
  timedUpdate,
} from "../report/nrf-timed-update.js";
import { byIdDirHooks } from "./lab-emulators.js";

const PORT_NAME = "usb-ZEPHYR_Zephyr_CDC_ACM_sample_000683000042-if00";

describe("hil emulate nrf52840 --calibration", () => {
  it("refuses a timing key the emulator does not have before serving anything, naming it (exit 2)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hil-emulate-nrf-cal-"));
    const err = console.error;
    const lines: string[] = [];
    console.error = (...a: unknown[]) => lines.push(a.join(" "));
    try {
      const file = join(dir, "cal.json");
      await writeFile(
        file,
        JSON.stringify({ format: CALIBRATION_FORMAT, timing: { doubleWordProgramMs: 0.1 } }),
      );
      const key = join(projectRoot(), "fixtures/mcuboot/test-only-ecdsa-p256.pub.pem");
      const code = await main([
        "emulate",
        "nrf52840",
        "--uart-pty",
        join(dir, "never"),
        "--key",
        key,
        "--calibration",
        file,
      ]);
      expect(code).to.equal(2);
      expect(lines.join("\n")).to.match(
        /emulator option timing.doubleWordProgramMs: expected one of pageEraseMs, wordWriteMs, bootloaderMs, smpResetDelayMs, uploadByteMs/,
      );
    } finally {
      console.error = err;
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("hil calibrate from a lab nRF52840 (hil emulate on a pty, slowed by its own calibration)", function () {
  this.timeout(90_000);
  const byId = byIdDirHooks();
  const previous = operationObserver();
  let dir: string;
  let savedDir: string | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "hil-calibrate-nrf-lab-"));
    savedDir = process.env.HIL_SERIAL_BY_ID_DIR;
    process.env.HIL_SERIAL_BY_ID_DIR = byId.dir;
  });
  afterEach(async () => {
    timeOperationsOn(undefined);
    if (savedDir === undefined) delete process.env.HIL_SERIAL_BY_ID_DIR;
    else process.env.HIL_SERIAL_BY_ID_DIR = savedDir;
    await rm(dir, { recursive: true, force: true });
  });

  it("swap and upload of the served board: calibrated device time within 5 %", async () => {
    const root = projectRoot();
    const v1 = new Uint8Array(await readFile(join(root, "fixtures/mcuboot/test-only-app-1.0.0.signed.bin")));
    // As large as the factory image, so the swap moves the sectors the host counts.
    const v2 = app("1.1.0", v1.length);
    const personality = join(dir, "personality.json");
    await writeFile(
      personality,
      JSON.stringify({
        format: CALIBRATION_FORMAT,
        board: "bench",
        history: "-",
        timing: { pageEraseMs: 110, bootloaderMs: 120, uploadByteMs: 0.08 },
      }),
    );
    const emulator = await startEmulator(
      "nrf52840",
      join(byId.dir, PORT_NAME),
      [
        "--key",
        join(root, "fixtures/mcuboot/test-only-ecdsa-p256.pub.pem"),
        "--option",
        `image=${join(root, "fixtures/mcuboot/test-only-app-1.0.0.signed.bin")}`,
        "--option",
        "console=usb-cdc",
        "--calibration",
        personality,
      ],
      { log: false },
    );
    try {
      const rigText = [
        "name: lab",
        "boards:",
        "  - id: lab-nrf",
        "    family: nrf52840",
        "    capabilities: [usart]",
        `    serial: { byId: /dev/serial/by-id/${PORT_NAME} }`,
        '    power: { backend: command, on: "true", off: "true" }',
        "    timeouts: { enumerateMs: 5000, settleMs: 20 }",
        "",
      ].join("\n");
      const [lab] = buildRig(parseRigFile(rigText, "rigs/lab.yaml"), "rigs/lab.yaml").boards;
      if (!lab) throw new Error("no board");
      const lines = await timedUpdate(lab, v2, previous);
      expect(one(lines, "MCUboot swap").units).to.equal(Math.ceil(v2.length / 4096));

      const written = await calibrateFrom(lines, dir, "lab-nrf");
      expect(Object.keys(written.timing).sort()).to.deep.equal([
        "bootloaderMs",
        "pageEraseMs",
        "uploadByteMs",
      ]);
      // The served board's own figures come back, plus what its wall clock is late by.
      expect(written.timing.pageEraseMs).to.be.within(105, 160);
      expect(written.timing.uploadByteMs).to.be.within(0.075, 0.13);
      const calibrated = await rigBoard(dir, `{ calibration: lab-nrf.calibration.json, ${KEY_OPTIONS} }`, v1);
      const vlines = await timedUpdate(calibrated, v2, previous);
      expectReplayed(lines, vlines, ["MCUboot swap", "MCUboot image upload"]);
      const plain = await rigBoard(dir, `{ ${KEY_OPTIONS} }`, v1);
      const plines = await timedUpdate(plain, v2, previous);
      expect(one(plines, "MCUboot image upload").ms / one(lines, "MCUboot image upload").ms).to.be.lessThan(
        0.5,
      );
    } finally {
      await emulator.stop();
    }
  });
});
