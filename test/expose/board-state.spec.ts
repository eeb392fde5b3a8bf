/**
 * `--state DIR` per device kind: the nRF52840's whole flash saved mid-flow and loaded into
 * a fresh board reproduces it (a pending test swaps at the next boot); files of the wrong
 * size and devices without a format are refused by name. `hil emulate nrf52840-mcuboot
 * --state` saves at SIGTERM and serves the saved board at the next start.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { SmpClient } from "../../harness/clients/smp/index.js";
import { Nrf52840McubootDevice } from "../../harness/devices/nrf52840-mcuboot/device.js";
import { TKeyDevice } from "../../harness/devices/tkey/device.js";
import { loadBoardState, saveBoardState } from "../../harness/expose/board-state.js";
import { startEmulator } from "../../harness/expose/emulator-process.js";
import { parseImage, publicOf } from "../../harness/protocol/mcuboot/index.js";
import { projectRoot } from "../../harness/rig/load.js";
import { VirtualClock } from "../../harness/sim/virtual-clock.js";
import { WallClock } from "../../harness/transport/clock.js";
import { openSerialPort } from "../../harness/transport/serial-port-stream.js";
import { app, board, goodKey } from "../devices/nrf52840/helpers.js";
import { readState } from "./emulator-process.js";

describe("expose/board-state: --state DIR per device", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "hil-state-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const freshNrf = () =>
    new Nrf52840McubootDevice({
      clock: new VirtualClock(),
      seed: 9,
      options: { keys: [publicOf(goodKey)] },
    });

  it("nrf52840: the saved flash (v2 pending test) boots into v2 on a fresh board", async () => {
    const v1 = app("1.0.0", 9000);
    const v2 = app("1.1.0", 12000);
    const { dev, client } = await board(v1);
    await client.upload(v2);
    await client.test(parseImage(v2).hash!);
    await dev.power.off();
    await saveBoardState(dev, dir);
    const saved = await readState(dir);
    expect(saved.length).to.equal(1024 * 1024);
    expect(
      saved.subarray(dev.layout.secondary.offset, dev.layout.secondary.offset + v2.length),
    ).to.deep.equal(v2);

    const again = freshNrf();
    expect(await loadBoardState(again, dir)).to.deep.equal(["flash.bin"]);
    await again.power.on();
    expect(again.runningVersion).to.equal("1.1.0");
    const list = await new SmpClient(again.port("console"), again.clock).list();
    expect(list[0]).to.include({ version: "1.1.0", active: true, confirmed: false });
  });

  it("an empty directory loads nothing; a file of the wrong size is refused by name", async () => {
    const dev = freshNrf();
    expect(await loadBoardState(dev, dir)).to.deep.equal([]);
    await writeFile(join(dir, "flash.bin"), new Uint8Array(4096));
    const err = await loadBoardState(dev, dir).catch((e: Error) => e);
    expect(err).to.have.property("message", `${join(dir, "flash.bin")}: expected 1048576 bytes, got 4096`);
  });

  it("a device without a saved-state format is refused, naming it", async () => {
    const tkey = new TKeyDevice({ clock: new VirtualClock(), seed: 1 });
    const err = await saveBoardState(tkey, dir).catch((e: Error) => e);
    expect(err).to.have.property("message", "--state: the emulated tkey has no saved-state format");
  });
});

describe("hil emulate nrf52840-mcuboot --state DIR", function () {
  this.timeout(60_000);
  let dir: string;
  before(async function () {
    if (spawnSync("which", ["socat"]).status !== 0) this.skip();
    dir = await mkdtemp(join(tmpdir(), "hil-state-"));
  });
  after(() => dir && rm(dir, { recursive: true, force: true }));

  it("saves the flash at SIGTERM; the next start serves the saved board", async () => {
    const root = projectRoot();
    const image = join(root, "fixtures/mcuboot/test-only-app-1.0.0.signed.bin");
    const key = join(root, "fixtures/mcuboot/test-only-ecdsa-p256.pub.pem");
    const link = join(dir, "nrf");
    const first = await startEmulator(
      "nrf52840-mcuboot",
      link,
      ["--key", key, "--option", `image=${image}`, "--state", join(dir, "state")],
      { log: false },
    );
    await first.stop();
    const flash = await readState(join(dir, "state"));
    const v1 = parseImage(flash.subarray(0xc000, 0x82000));
    expect(v1.header.version).to.include({ major: 1, minor: 0 });

    // No image option now: only the saved state can make the board boot.
    const second = await startEmulator(
      "nrf52840-mcuboot",
      link,
      ["--key", key, "--state", join(dir, "state")],
      {
        log: false,
      },
    );
    try {
      expect(second.log()).to.include(`hil emulate: loaded flash.bin from ${join(dir, "state")}`);
      const clock = new WallClock();
      const port = await openSerialPort(link, { baudRate: 115200, clock });
      try {
        const list = await new SmpClient(port, clock).list();
        expect(list.map((i) => [i.slot, i.version, i.active])).to.deep.equal([[0, "1.0.0", true]]);
      } finally {
        await port.close();
      }
    } finally {
      await second.stop();
    }
  });
});
