import { expect } from "chai";
import { trailerOf } from "../../../harness/devices/nrf52840-mcuboot/slots.js";
import { sweepSwapCuts } from "../../../harness/devices/nrf52840-mcuboot/swap-sweep.js";
import { BootFlagState, BootMagicState, parseImage } from "../../../harness/protocol/mcuboot/index.js";
import { app, board, wrongKey } from "./helpers.js";

const v1 = app("1.0.0", 9000);
const v2 = app("2.0.0", 13000);
const SECTOR = 0x1000;

const overwriteBoard = () => board(v1, 9, "overwrite-only");

describe("devices/nrf52840-mcuboot: overwrite-only mode (MCUBOOT_OVERWRITE_ONLY)", () => {
  it("copies the tested image over the primary, writes the primary's magic and no flags, erases the secondary's header and trailer sectors; no revert", async () => {
    // Zephyr's CONFIG_BOOT_UPGRADE_ONLY: MCUBOOT_OVERWRITE_ONLY + _FAST (loader.c boot_copy_image).
    const { dev, client } = await overwriteBoard();
    await client.upload(v2);
    await client.test(parseImage(v2).hash!);
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("2.0.0");
    expect(dev.primary.read(0, v2.length)).to.deep.equal(v2);
    expect(trailerOf(dev.primary)).to.include({
      magic: BootMagicState.GOOD,
      imageOk: BootFlagState.UNSET,
      copyDone: BootFlagState.UNSET,
    });
    const last = dev.primary.size - SECTOR;
    expect(
      dev.primary.read(last, SECTOR - 16).every((b) => b === 0xff),
      "only the magic",
    ).to.equal(true);
    expect(dev.secondary.isErased(0, SECTOR), "header sector").to.equal(true);
    expect(dev.secondary.isErased(last, SECTOR), "trailer sector").to.equal(true);
    expect(dev.secondary.read(SECTOR, v2.length - SECTOR), "the rest is left").to.deep.equal(
      v2.subarray(SECTOR),
    );
    const list = await client.list();
    expect(list).to.have.length(1);
    expect(list[0]).to.include({ version: "2.0.0", active: true, confirmed: true });
    await dev.power.cycle();
    expect(dev.runningVersion, "nothing to revert to").to.equal("2.0.0");
  });

  it("a wrong-key image is erased and the old image keeps running", async () => {
    const { dev, client } = await overwriteBoard();
    const bad = app("2.0.0", 13000, wrongKey);
    await client.upload(bad);
    await client.test(parseImage(bad).hash!);
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("1.0.0");
    expect(dev.secondary.isErased(0, dev.secondary.size)).to.equal(true);
  });

  it("a cut before any flash operation of the copy ends on the new image after the next boot", async () => {
    const { dev, client } = await overwriteBoard();
    await client.upload(v2);
    await client.test(parseImage(v2).hash!);
    await dev.power.off();
    const { total, failures } = await sweepSwapCuts(dev, async () => {
      await dev.power.on();
      const ok =
        dev.runningVersion === "2.0.0" &&
        dev.primary.read(0, v2.length).every((b, i) => b === v2[i]) &&
        trailerOf(dev.primary).magic === BootMagicState.GOOD;
      return ok ? undefined : `${dev.state} ${dev.runningVersion}`;
    });
    expect(total).to.be.above(10);
    expect(failures).to.deep.equal([]);
  });
});
