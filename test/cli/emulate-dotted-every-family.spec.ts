/**
 * `hil emulate --option KEY.SUB=VALUE` on every family it serves, not only the STM32s: a
 * dotted key sets a nested option as the rig file's `emulated.options` does (a TKey's
 * `udi: { serial }`, a `misbehave: { seed, rate }`, an STM32's `timing: { pageEraseMs }`);
 * a bad nested value is one line naming the key, exit 2.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { nrf52840EmulatorOptions } from "../../harness/cli/emulate-nrf52840.js";
import { stm32EmulatorOptions } from "../../harness/cli/emulate-stm32.js";
import { tkeyEmulatorOptions } from "../../harness/cli/emulate-tkey.js";
import { main } from "../../harness/cli/main.js";
import { UsageError } from "../../harness/cli/usage-error.js";
import { startEmulator } from "../../harness/expose/emulator-process.js";
import { CALIBRATION_FORMAT } from "../../harness/report/calibration.js";
import { projectRoot } from "../../harness/rig/load.js";

const HIL = join(projectRoot(), "bin", "hil.js");
const KEY = join(projectRoot(), "fixtures/mcuboot/test-only-ecdsa-p256.pub.pem");

/** `main(argv)`'s exit code and what it said on stderr. */
async function run(argv: string[]): Promise<{ code: number; stderr: string }> {
  const said: string[] = [];
  const err = console.error;
  console.error = (...args: unknown[]) => void said.push(args.join(" "));
  try {
    return { code: await main(argv), stderr: said.join("\n") };
  } finally {
    console.error = err;
  }
}

describe("hil emulate --option KEY.SUB=VALUE on every family", function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "hil-dotted-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("tkey: udi.* and misbehave.* nest, their numbers parsed; serial=N still sets the UDI serial", () => {
    expect(
      tkeyEmulatorOptions([
        "profile=castor",
        "udi.vendorId=0x1337",
        "udi.revision=3",
        "udi.serial=7",
        "misbehave.seed=9",
        "misbehave.rate=0.25",
      ]),
    ).to.deep.equal({
      profile: "castor",
      options: { udi: { vendorId: 0x1337, revision: 3, serial: 7 }, misbehave: { seed: 9, rate: 0.25 } },
    });
    expect(tkeyEmulatorOptions(["serial=5", "udi.revision=2"]).options).to.deep.equal({
      udi: { revision: 2, serial: 5 },
    });
    expect(() => tkeyEmulatorOptions(["serial=5", "udi.serial=6"])).to.throw(
      UsageError,
      "--option serial and udi.serial both set the UDI serial: give one",
    );
    expect(() => tkeyEmulatorOptions(["udi.serail=6"])).to.throw(UsageError, /KEY one of .*udi\.serial/);
  });

  it("nrf52840: misbehave.* nests beside the plain options", () => {
    expect(
      nrf52840EmulatorOptions([
        "misbehave.seed=3",
        "misbehave.rate=0.5",
        "downgradePrevention=true",
        "mode=overwrite-only",
      ]),
    ).to.deep.equal({
      misbehave: { seed: 3, rate: 0.5 },
      downgradePrevention: true,
      mode: "overwrite-only",
    });
  });

  it("stm32: timing.* nests and wins over a --calibration file's figure, as a rig file's options do", async () => {
    const calibration = join(dir, "cal.json");
    await writeFile(
      calibration,
      JSON.stringify({
        format: CALIBRATION_FORMAT,
        board: "lab-l432",
        family: "stm32l432",
        timing: { pageEraseMs: 9, doubleWordProgramMs: 0.03 },
        sources: {},
      }),
    );
    const options = await stm32EmulatorOptions({
      option: ["timing.pageEraseMs=30", "dfu.l4EraseStall=true"],
      calibration,
    });
    expect(options).to.deep.include({
      boot: "bootloader",
      dfu: { l4EraseStall: true },
      timing: { pageEraseMs: 30, doubleWordProgramMs: 0.03 },
    });
  });

  it("through main: a bad nested value is one line naming the key, exit 2, nothing served", async () => {
    const link = join(dir, "tty");
    const cases: [string[], string][] = [
      [
        ["emulate", "tkey", "--uart-pty", link, "--option", "udi.serial=x7"],
        "hil: tkey option udi.serial must be an integer",
      ],
      [
        ["emulate", "nrf52840", "--uart-pty", link, "--key", KEY, "--option", "misbehave.rate=2"],
        'hil: emulate nrf52840-mcuboot: emulator option misbehave: expected SEED or SEED:RATE (SEED a whole number, RATE in (0, 1]), got {"rate":2}',
      ],
      [
        ["emulate", "stm32l432", "--uart-pty", link, "--option", "timing.pageEraseMS=3"],
        "hil: emulator option timing.pageEraseMS: expected one of",
      ],
      [
        ["emulate", "stm32l432", "--uart-pty", link, "--option", "timing=3"],
        "hil: --option timing: give its figures as dotted keys (timing.pageEraseMs=30)",
      ],
    ];
    for (const [argv, said] of cases) {
      const { code, stderr } = await run(argv);
      expect(code, argv.join(" ")).to.equal(2);
      expect(stderr, argv.join(" ")).to.include(said);
    }
  });

  it("a served TKey with --option udi.serial=7 udi.revision=3 reports that UDI to `hil tkey info`", async function () {
    if (spawnSync("which", ["socat"]).status !== 0) this.skip(); // apt-get install -y socat
    const link = join(dir, "tkey");
    const emu = await startEmulator(
      "tkey",
      link,
      ["--option", "udi.serial=7", "--option", "udi.revision=3", "--option", "profile=castor"],
      { log: false },
    );
    try {
      const r = await execa("node", [HIL, "tkey", "info", "--port", link], { reject: false, all: true });
      expect(r.exitCode, r.all).to.equal(0);
      expect(r.stdout).to.match(/^UDI vendor 0x[0-9a-f]{4}, product \d+ \(\w+\), revision 3, serial 7$/m);
    } finally {
      await emu.stop();
    }
  });
});
