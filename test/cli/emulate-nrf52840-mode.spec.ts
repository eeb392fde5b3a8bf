/**
 * `hil emulate nrf52840-mcuboot --option mode=…`: the upgrade method MCUboot was built with.
 * Each mode, driven over the pty as a host would (upload, test, reset twice), does what
 * that method does: the swaps keep the old image in the secondary and revert an unconfirmed
 * test, swap-using-scratch goes through the scratch partition, overwrite-only copies and
 * keeps the new image with no way back.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { type ImageSlotState, SmpClient } from "../../harness/clients/smp/index.js";
import type { Nrf52840McubootDevice } from "../../harness/devices/nrf52840-mcuboot/device.js";
import { NRF52840DK_LAYOUT } from "../../harness/devices/nrf52840-mcuboot/profile.js";
import { readState, startEmulator } from "../../harness/expose/emulator-process.js";
import { parseImage } from "../../harness/protocol/mcuboot/index.js";
import { parseRigFile, projectRoot } from "../../harness/rig/load.js";
import { buildRig } from "../../harness/rig/rig.js";
import { WallClock } from "../../harness/transport/clock.js";
import { openSerialPort } from "../../harness/transport/serial-port-stream.js";
import { app } from "../devices/nrf52840/helpers.js";

const v1 = app("1.0.0", 3000);
const v2 = app("1.1.0", 3500);

/** Slot, version, active, confirmed of each image the application lists. */
const brief = (list: ImageSlotState[]) => list.map((i) => [i.slot, i.version, !!i.active, !!i.confirmed]);

/**
 * Waits until MCUboot has booted an image `n` times since the start (the emulator's --log,
 * printed every 200 ms, says so), then lists once the application answers (every request
 * has its own timeout).
 */
async function listAfterBoot(client: SmpClient, log: () => string, n: number): Promise<ImageSlotState[]> {
  const deadline = Date.now() + 20_000;
  while ((log().match(/booting primary image/g)?.length ?? 0) < n) {
    if (Date.now() > deadline) throw new Error(`boot ${n} not seen within 20 s:\n${log()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  for (;;) {
    try {
      return await client.list();
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
  }
}

const MODES = [
  {
    mode: "swap-using-move",
    log: /swap-move TEST over 2 sectors: start/,
    afterTest: [
      [0, "1.1.0", true, false],
      [1, "1.0.0", false, true],
    ],
    afterSecondReset: "1.0.0",
    scratchUsed: false,
  },
  {
    mode: "swap-using-scratch",
    log: /swap-scratch TEST over 1 operations/,
    afterTest: [
      [0, "1.1.0", true, false],
      [1, "1.0.0", false, true],
    ],
    afterSecondReset: "1.0.0",
    scratchUsed: true,
  },
  {
    mode: "overwrite-only",
    log: /overwrite-only: erasing 2 sectors and the trailer/,
    // The secondary's header sector is erased after the copy: no image there any more.
    afterTest: [[0, "1.1.0", true, true]],
    afterSecondReset: "1.1.0",
    scratchUsed: false,
  },
] as const;

describe("hil emulate nrf52840-mcuboot --option mode=", function () {
  this.timeout(60_000);
  let dir: string;
  before(async function () {
    if (spawnSync("which", ["socat"]).status !== 0) this.skip();
    dir = await mkdtemp(join(tmpdir(), "hil-mode-"));
    await writeFile(join(dir, "v1.bin"), v1);
  });
  after(() => dir && rm(dir, { recursive: true, force: true }));

  for (const m of MODES)
    it(`${m.mode}: boots, upgrades and (un)reverts as that mode does`, async () => {
      const key = join(projectRoot(), "fixtures/mcuboot/test-only-ecdsa-p256.pub.pem");
      const link = join(dir, m.mode);
      const state = join(dir, `${m.mode}-state`);
      const emu = await startEmulator("nrf52840-mcuboot", link, [
        ...["--key", key, "--option", `image=${join(dir, "v1.bin")}`],
        ...["--option", `mode=${m.mode}`, "--state", state],
      ]);
      const clock = new WallClock();
      try {
        const port = await openSerialPort(link, { baudRate: 115200, clock });
        try {
          const client = new SmpClient(port, clock);
          expect(brief(await listAfterBoot(client, emu.log, 1))).to.deep.equal([[0, "1.0.0", true, true]]);
          await client.upload(v2);
          await client.test(parseImage(v2).hash!);
          await client.reset();
          const listed = brief(await listAfterBoot(client, emu.log, 2));
          expect(listed, emu.log()).to.deep.equal(m.afterTest);
          expect(emu.log()).to.match(m.log);
          await client.reset();
          const after = await listAfterBoot(client, emu.log, 3);
          expect(after.find((i) => i.active)?.version).to.equal(m.afterSecondReset);
        } finally {
          await port.close();
        }
      } finally {
        await emu.stop();
      }
      const flash = await readState(state);
      const { offset, size } = NRF52840DK_LAYOUT.scratch;
      const scratchErased = flash.subarray(offset, offset + size).every((b) => b === 0xff);
      expect(scratchErased, "scratch partition untouched").to.equal(!m.scratchUsed);
    });

  it("an unknown mode is refused naming the known ones, before any pty", async () => {
    const { runEmulateNrf52840 } = await import("../../harness/cli/emulate-nrf52840.js");
    const key = join(projectRoot(), "fixtures/mcuboot/test-only-ecdsa-p256.pub.pem");
    const e = await runEmulateNrf52840({
      "uart-pty": join(dir, "unused"),
      key,
      option: ["mode=swap-using-magic"],
    }).catch((err) => err);
    expect(e).to.have.property("name", "UsageError");
    expect(e.message).to.match(
      /unknown mode 'swap-using-magic' \(known: swap-using-move, swap-using-scratch, overwrite-only\)/,
    );
  });
});

describe("rig files: an emulated nrf52840's options.mode", () => {
  const rig = (mode: string) =>
    [
      "name: modes",
      "boards:",
      "  - id: nrf",
      "    family: nrf52840",
      "    capabilities: [usart]",
      "    emulated:",
      "      options:",
      "        key: fixtures/mcuboot/test-only-ecdsa-p256.pub.pem",
      `        mode: ${mode}`,
      "",
    ].join("\n");
  const modeOf = (mode: string) =>
    (
      buildRig(parseRigFile(rig(mode), "modes.yaml"), "modes.yaml").boards[0]!
        .emulator as Nrf52840McubootDevice
    ).mode;

  it("takes MCUboot's names (and the short ones) and refuses others", () => {
    expect(modeOf("swap-using-move")).to.equal("move");
    expect(modeOf("swap-using-scratch")).to.equal("scratch");
    expect(modeOf("overwrite-only")).to.equal("overwrite-only");
    expect(modeOf("scratch")).to.equal("scratch");
    expect(() => modeOf("swap-using-offset")).to.throw(/unknown mode 'swap-using-offset'/);
  });
});
