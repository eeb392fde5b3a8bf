import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "chai";
import sinon from "sinon";
import { FIXTURE_KEYS, fixtureApp, fixtureKey } from "../../../fixtures/mcuboot/generate.js";
import { main } from "../../../harness/cli/main.js";
import { Nrf52840McubootDevice } from "../../../harness/devices/nrf52840-mcuboot/device.js";
import { type ServedConsole, serveNrf52840Console } from "../../../harness/expose/nrf52840-uart.js";
import {
  parseImage,
  privateKeyPem,
  publicKeyPem,
  publicOf,
} from "../../../harness/protocol/mcuboot/index.js";
import { WallClock } from "../../../harness/transport/clock.js";
import { app, goodKey } from "../../devices/nrf52840/helpers.js";
import { makeByIdDir } from "../../rig/lab-emulators.js";

const FIX = join(import.meta.dirname, "..", "..", "..", "fixtures", "mcuboot");

describe("hil smp (emulated nrf52840-0 on rigs/emulated.yaml)", () => {
  afterEach(() => sinon.restore());

  it("lists the factory image with its hash and flags", async () => {
    const log = sinon.stub(console, "log");
    expect(await main(["smp", "list", "--board", "nrf52840-0"])).to.equal(0);
    const hash = Buffer.from(parseImage(fixtureApp("1.0.0")).hash!).toString("hex");
    expect(log.firstCall.args[0]).to.equal(
      `image=0 slot=0 version=1.0.0 hash=${hash} flags: bootable confirmed active`,
    );
  });

  it("reports a device rc as one line with exit code 1, and bad arguments with exit code 2", async () => {
    const err = sinon.stub(console, "error");
    expect(await main(["smp", "test", "ab".repeat(32), "--board", "nrf52840-0"])).to.equal(1);
    expect(err.firstCall.args[0]).to.equal("hil: smp test: image test: IMG_MGMT_ERR_HASH_NOT_FOUND (8)");
    expect(await main(["smp", "test", "zz", "--board", "nrf52840-0"])).to.equal(2);
    expect(await main(["smp", "list", "--board", "tkey-0"])).to.equal(2);
    expect(await main(["smp", "frobnicate", "--board", "nrf52840-0"])).to.equal(2);
  });
});

describe("hil smp on a lab rig (the emulator on a pty whose USB CDC port re-enumerates at reset)", function () {
  this.timeout(60_000);
  const PORT = "usb-ZEPHYR_Zephyr_CDC_ACM_sample_000683000001-if00";
  const clock = new WallClock();
  let byId: Awaited<ReturnType<typeof makeByIdDir>>;
  let dev: Nrf52840McubootDevice;
  let served: ServedConsole;
  let rig: string;
  let saved: string | undefined;

  before(async function () {
    if (spawnSync("which", ["socat"]).status !== 0) this.skip();
    byId = await makeByIdDir();
    saved = process.env.HIL_SERIAL_BY_ID_DIR;
    process.env.HIL_SERIAL_BY_ID_DIR = byId.dir;
    rig = join(byId.dir, "..", `${PORT}-rig.yaml`);
    await writeFile(
      rig,
      [
        "name: pty-lab",
        "boards:",
        "  - id: nrf-pty",
        "    family: nrf52840",
        "    capabilities: [usart]",
        `    serial: { byId: /dev/serial/by-id/${PORT} }`,
        '    power: { backend: command, on: "true", off: "true" }',
        "    timeouts: { enumerateMs: 3000, settleMs: 20 }",
        "",
      ].join("\n"),
    );
    dev = new Nrf52840McubootDevice({ clock, seed: 4, options: { keys: [publicOf(goodKey)] } });
    dev.program(dev.layout.primary.offset, app("1.0.0", 9000));
    await dev.power.on();
    served = await serveNrf52840Console(dev, join(byId.dir, PORT), clock, "usb-cdc");
  });
  after(async () => {
    await served?.close();
    await dev?.power.off();
    if (saved === undefined) delete process.env.HIL_SERIAL_BY_ID_DIR;
    else process.env.HIL_SERIAL_BY_ID_DIR = saved;
    await byId?.remove();
  });
  afterEach(() => sinon.restore());

  it("upload --test --reset: the list after the reset comes from the port found again", async () => {
    const v2 = app("1.1.0", 12000);
    const file = join(byId.dir, "..", `${PORT}-v2.bin`);
    await writeFile(file, v2);
    const log = sinon.stub(console, "log");
    const err = sinon.stub(console, "error");
    const before = served.enumerations;
    expect(
      await main(["smp", "upload", file, "--test", "--reset", "--rig", rig, "--board", "nrf-pty"]),
    ).to.equal(0);
    expect(served.enumerations, "the port re-enumerated once").to.equal(before + 1);
    expect(err.args.map((a) => String(a[0]))).to.include(
      `reset: the application answers again on ${join(byId.dir, PORT)}`,
    );
    const hash = Buffer.from(parseImage(v2).hash!).toString("hex");
    const lines = log.args.map((a) => String(a[0]));
    expect(lines.slice(-2)).to.deep.equal([
      `image=0 slot=0 version=1.1.0 hash=${hash} flags: bootable active`,
      `image=0 slot=1 version=1.0.0 hash=${Buffer.from(parseImage(app("1.0.0", 9000)).hash!).toString("hex")} flags: bootable confirmed`,
    ]);
  });

  it("reset alone: waits for the application on the re-resolved port (which reverts the unconfirmed image)", async () => {
    const err = sinon.stub(console, "error");
    const before = served.enumerations;
    expect(await main(["smp", "reset", "--rig", rig, "--board", "nrf-pty"])).to.equal(0);
    expect(served.enumerations).to.equal(before + 1);
    expect(err.args.map((a) => String(a[0]))).to.include(
      `reset: the application answers again on ${join(byId.dir, PORT)}`,
    );
    expect(dev.runningVersion).to.equal("1.0.0");
  });

  it("--test and --reset are refused where they mean nothing, before any port is opened", async () => {
    const err = sinon.stub(console, "error");
    expect(await main(["smp", "list", "--test", "--rig", rig, "--board", "nrf-pty"])).to.equal(2);
    expect(await main(["smp", "echo", "x", "--reset", "--rig", rig, "--board", "nrf-pty"])).to.equal(2);
    expect(err.args.map((a) => String(a[0]))).to.deep.equal([
      "hil: smp: --test goes with upload",
      "hil: smp: --reset goes with upload, test or confirm",
    ]);
  });
});

describe("fixtures/mcuboot: regenerated deterministically", () => {
  it("the committed test-only keys and app image are what generate.ts makes", () => {
    for (const name of Object.keys(FIXTURE_KEYS)) {
      expect(name).to.match(/^test-only-/);
      const key = fixtureKey(name);
      expect(readFileSync(join(FIX, `${name}.pem`), "utf8")).to.equal(privateKeyPem(key));
      expect(readFileSync(join(FIX, `${name}.pub.pem`), "utf8")).to.equal(publicKeyPem(key));
    }
    expect(new Uint8Array(readFileSync(join(FIX, "test-only-app-1.0.0.signed.bin")))).to.deep.equal(
      fixtureApp("1.0.0"),
    );
  });
});

describe("emulate nrf52840-mcuboot: options", () => {
  it("requires the provisioned key and known options, before opening any pty", async () => {
    const { runEmulateNrf52840 } = await import("../../../harness/cli/emulate-nrf52840.js");
    const run = (option: string[]) =>
      runEmulateNrf52840({ "uart-pty": "/tmp/unused-pty", option }).catch((e) => e);
    expect(await run([]))
      .to.have.property("message")
      .match(/--key FILE \(the provisioned key\) is required/);
    expect(await run(["colour=blue"]))
      .to.have.property("message")
      .match(/KEY one of key, image/);
    expect(await run(["key=fixtures/mcuboot/missing.pem"])).to.have.property("name", "UsageError");
    const both = await runEmulateNrf52840({
      "uart-pty": "/tmp/unused-pty",
      key: "fixtures/mcuboot/a.pem",
      option: ["key=fixtures/mcuboot/b.pem"],
    }).catch((e) => e);
    expect(both)
      .to.have.property("message")
      .match(/--key and --option key= name different files/);
  });
});
