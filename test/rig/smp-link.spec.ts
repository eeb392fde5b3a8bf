/**
 * The SMP link of a lab nRF52840, tested against the emulator on a real pty: the rig file
 * names the board by identity (a by-id link or the USB serial number), the locator finds
 * it in a by-id directory holding the pty's link, and after a reset the old port is closed
 * and the port is found again, as a re-enumerating USB CDC ACM device requires.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { observeOperations, operationObserver } from "../../harness/clients/operation.js";
import { Nrf52840McubootDevice } from "../../harness/devices/nrf52840-mcuboot/device.js";
import { startEmulator } from "../../harness/expose/emulator-process.js";
import {
  type ConsoleKind,
  type ServedConsole,
  serveNrf52840Console,
} from "../../harness/expose/nrf52840-uart.js";
import { InfrastructureError } from "../../harness/lab/errors.js";
import { parseImage, publicOf } from "../../harness/protocol/mcuboot/index.js";
import type { Board } from "../../harness/rig/board.js";
import { loadRigFile, parseRigFile, projectRoot } from "../../harness/rig/load.js";
import { buildRig } from "../../harness/rig/rig.js";
import { SmpLink } from "../../harness/rig/smp-link.js";
import { WallClock } from "../../harness/transport/clock.js";
import { app, goodKey } from "../devices/nrf52840/helpers.js";
import { byIdDirHooks, makeByIdDir } from "./lab-emulators.js";
import { portsLeftOpen, runSuitesOnRig } from "./lab-suite-run.js";

const PORT_NAME = "usb-ZEPHYR_Zephyr_CDC_ACM_sample_000683000001-if00";
const FILE = "rigs/lab.yaml";

function labBoard(serial: string): Board {
  const text = [
    "name: lab",
    "boards:",
    "  - id: nrf-a",
    "    family: nrf52840",
    "    capabilities: [usart]",
    `    serial: ${serial}`,
    '    power: { backend: command, on: "true", off: "true" }',
    "    timeouts: { enumerateMs: 3000, settleMs: 20 }",
    "",
  ].join("\n");
  return buildRig(parseRigFile(text, FILE), FILE).boards[0]!;
}

const hashOf = (image: Uint8Array) => parseImage(image).hash!;

describe("rig/smp-link: a lab nRF52840 found by identity (the emulator behind a real pty)", function () {
  this.timeout(60_000);
  const clock = new WallClock();
  const v1 = app("1.0.0", 9000);
  const v2 = app("1.1.0", 12000);
  let byId: Awaited<ReturnType<typeof makeByIdDir>>;
  let savedDir: string | undefined;
  let dev: Nrf52840McubootDevice;
  let served: ServedConsole | undefined;
  let link: SmpLink | undefined;

  before(async function () {
    if (spawnSync("which", ["socat"]).status !== 0) this.skip(); // apt-get install -y socat
    byId = await makeByIdDir();
    // Another device on the rack, so "what was seen" has something in it.
    await symlink("/dev/null", join(byId.dir, "usb-SEGGER_J-Link_000683999999-if00"));
    savedDir = process.env.HIL_SERIAL_BY_ID_DIR;
    process.env.HIL_SERIAL_BY_ID_DIR = byId.dir;
  });
  after(async () => {
    if (savedDir === undefined) delete process.env.HIL_SERIAL_BY_ID_DIR;
    else process.env.HIL_SERIAL_BY_ID_DIR = savedDir;
    await byId?.remove();
  });

  async function serve(kind: ConsoleKind): Promise<ServedConsole> {
    dev = new Nrf52840McubootDevice({ clock, seed: 3, options: { keys: [publicOf(goodKey)] } });
    dev.program(dev.layout.primary.offset, v1);
    await dev.power.on();
    served = await serveNrf52840Console(dev, join(byId.dir, PORT_NAME), clock, kind);
    return served;
  }

  afterEach(async () => {
    await link?.close();
    link = undefined;
    await served?.close();
    served = undefined;
    await dev?.power.off();
  });

  it("USB CDC: after os reset the old port is closed and the re-enumerated port is found again by its by-id link", async () => {
    const console = await serve("usb-cdc");
    const board = labBoard(`{ byId: /dev/serial/by-id/${PORT_NAME} }`);
    link = await SmpLink.connect(board);
    expect(link.path).to.equal(join(byId.dir, PORT_NAME));
    expect((await link.client.list()).map((i) => i.version)).to.deep.equal(["1.0.0"]);
    await link.client.upload(v2);
    await link.client.test(hashOf(v2));
    const oldStream = link.stream;

    const client = await link.reset();

    expect(oldStream.closed, "the old port is closed, never reused").to.equal(true);
    expect(link.stream).to.not.equal(oldStream);
    expect(console.enumerations, "the port went away and came back").to.equal(2);
    expect(await realpath(link.path!)).to.equal(console.pty);
    expect(dev.runningVersion).to.equal("1.1.0");
    const list = await client.list();
    expect(list[0]).to.include({ slot: 0, version: "1.1.0", active: true, confirmed: false });
    expect((await client.confirm())[0]).to.include({ confirmed: true });
  });

  it("USB serial number identity: found through the by-id names, re-resolved after the reset", async () => {
    const console = await serve("usb-cdc");
    link = await SmpLink.connect(labBoard('{ usbSerial: "000683000001" }'));
    await link.client.upload(v2);
    await link.client.confirm(hashOf(v2));
    await link.reset();
    expect(console.enumerations).to.equal(2);
    expect((await link.client.list())[0]).to.include({ version: "1.1.0", active: true, confirmed: true });
  });

  it("DK console (interface MCU): the port stays; it is reopened and the new application awaited", async () => {
    const console = await serve("uart");
    link = await SmpLink.connect(labBoard(`{ byId: /dev/serial/by-id/${PORT_NAME} }`));
    const oldStream = link.stream;
    await link.client.upload(v2);
    await link.client.test(hashOf(v2));
    await link.reset();
    expect(oldStream.closed).to.equal(true);
    expect(console.enumerations).to.equal(1);
    expect((await link.client.list())[0]).to.include({ version: "1.1.0", active: true });
  });

  it("DK console (interface MCU): the timed reset is the reset and boot, not a wait for the port to vanish", async () => {
    await serve("uart");
    link = await SmpLink.connect(labBoard(`{ byId: /dev/serial/by-id/${PORT_NAME} }`), { probeMs: 100 });
    await link.client.list(); // the image state read: the reset is classed, no swap pending
    const timed: { title: string; ms: number }[] = [];
    const saved = operationObserver();
    observeOperations(async (source, title, body) => {
      const start = clock.now();
      try {
        return await body({ retitle() {} });
      } finally {
        if (source.kind === "smp") timed.push({ title, ms: clock.now() - start });
      }
    });
    try {
      await link.reset();
    } finally {
      observeOperations(saved);
    }
    // The link's reset holds the client's own `os reset` and the readiness echoes.
    const resets = timed.filter((t) => t.title.startsWith("reset and"));
    expect(resets.map((t) => t.title)).to.deep.equal(["reset and boot"]);
    // The host's 300 ms wait after `os reset` (the device resets after 250 ms and boots in
    // 20 ms), then an echo answered on the port that stayed: well under the 1 s the link
    // would give a vanishing port, which the old wait added to every reset.
    const { bootloaderMs, smpResetDelayMs } = dev.timing;
    expect(resets[0]!.ms)
      .to.be.at.least(300)
      .and.below(Math.max(300, smpResetDelayMs + bootloaderMs) + 500);
    expect((await link.client.list())[0]).to.include({ version: "1.0.0", active: true });
  });

  it("a board whose port does not come back after a reset: InfrastructureError naming what was there", async () => {
    const console = await serve("usb-cdc");
    link = await SmpLink.connect(labBoard(`{ byId: /dev/serial/by-id/${PORT_NAME} }`), { bootMs: 4000 });
    await console.close(); // the board never enumerates again
    const err = await link.afterReset().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(InfrastructureError);
    expect((err as Error).message)
      .to.include(`board nrf-a: /dev/serial/by-id/${PORT_NAME} did not appear`)
      .and.include("usb-SEGGER_J-Link_000683999999-if00");
  });

  it("a port that comes back with a silent application: InfrastructureError after the boot timeout", async () => {
    await serve("uart");
    link = await SmpLink.connect(labBoard(`{ byId: /dev/serial/by-id/${PORT_NAME} }`), {
      bootMs: 1500,
      probeMs: 300,
    });
    await dev.power.off(); // the port (the DK's interface MCU) stays, nothing answers
    const err = await link.afterReset().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(InfrastructureError);
    expect((err as Error).message).to.match(
      /board nrf-a: the application did not answer SMP echo within 1500 ms \(\d+ attempt\(s\) on .*usb-ZEPHYR.*; last: echo unanswered/,
    );
  });
});

describe("rigs/examples/nrf52840-dk.yaml", () => {
  it("loads: two lab nRF52840 boards whose SMP port is found by identity", async () => {
    const path = join(projectRoot(), "rigs/examples/nrf52840-dk.yaml");
    const rig = buildRig(await loadRigFile(path), path);
    expect(rig.boards.map((b) => [b.id, b.family, b.emulated])).to.deep.equal([
      ["nrf52840-dk-1", "nrf52840", false],
      ["nrf52840-dongle-1", "nrf52840", false],
    ]);
    for (const b of rig.boards) expect(b.locator?.hasSerialPort, b.id).to.equal(true);
    expect(rig.boards[0]!.capabilities.has("power-cut")).to.equal(true);
  });
});

describe("suites/nrf52840-mcuboot on a lab rig (hil emulate nrf52840-mcuboot on a pty, USB CDC console)", function () {
  this.timeout(240_000);
  const byId = byIdDirHooks();

  it("the same scenarios pass through the lab path; the flash-level ones skip with the reason", async () => {
    const root = projectRoot();
    const emulator = await startEmulator(
      "nrf52840-mcuboot",
      join(byId.dir, PORT_NAME),
      [
        "--key",
        join(root, "fixtures/mcuboot/test-only-ecdsa-p256.pub.pem"),
        "--option",
        `image=${join(root, "fixtures/mcuboot/test-only-app-1.0.0.signed.bin")}`,
        "--option",
        "console=usb-cdc",
      ],
      { log: false },
    );
    const scratch = await mkdtemp(join(tmpdir(), "hil-lab-run-"));
    try {
      const appFile = join(scratch, "app.bin");
      await writeFile(
        appFile,
        Uint8Array.from({ length: 6000 }, (_, i) => (i * 7 + 1) & 0xff),
      );
      const result = await runSuitesOnRig({
        dir: scratch,
        rigYaml: [
          "name: pty-lab",
          "boards:",
          "  - id: nrf-pty",
          "    family: nrf52840",
          "    capabilities: [usart]",
          `    serial: { byId: /dev/serial/by-id/${PORT_NAME} }`,
          '    power: { backend: command, on: "true", off: "true" }',
          "    timeouts: { enumerateMs: 5000, settleMs: 20 }",
        ],
        suites: "suites/nrf52840-mcuboot/*.spec.ts",
        env: { HIL_SERIAL_BY_ID_DIR: byId.dir, HIL_MCUBOOT_APP: appFile },
      });
      expect(result.failures, result.stderr).to.deep.equal([]);
      expect(portsLeftOpen(result.stderr), "every test closes the ports it opened").to.deep.equal([]);
      expect(result.passes, "full update 3, wrong key 2, error injection 5, upload resume 1").to.have.length(
        11,
      );
      expect(result.pending).to.deep.equal([
        "mcuboot: power interruption during MCUboot swaps skipped: rig 'pty-lab': board of family nrf52840 (nrf-pty) lacks capabilities power-cut, flash-faults, inspect",
      ]);
    } finally {
      await emulator.stop();
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
