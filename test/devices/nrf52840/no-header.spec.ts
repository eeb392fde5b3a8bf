/**
 * A request whose secondary slot has no image header (its magic erased, e.g. a cut while the
 * slot was being erased from its first sector): MCUboot loader.c boot_validate_slot treats
 * that as "no bootable image", erases only the secondary's trailer sectors
 * (swap_scramble_trailer_sectors), and for swap-using-move with a REVERT pending also the
 * primary's ("Cleared image %d primary slot trailer due to stuck revert"). Swap type NONE.
 */
import { expect } from "chai";
import { trailerOf } from "../../../harness/devices/nrf52840-mcuboot/slots.js";
import { BootFlagState, BootMagicState, parseImage } from "../../../harness/protocol/mcuboot/index.js";
import { app, board } from "./helpers.js";

const v1 = app("1.0.0", 9000);
const v2 = app("2.0.0", 13000);
const SECTOR = 0x1000;
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

/** v2 tested and running unconfirmed (a REVERT due), then the secondary's first sector erased. */
async function stuckRevert(mode?: "scratch") {
  const { dev, client } = await board(v1, 11, mode);
  await client.upload(v2);
  await client.test(parseImage(v2).hash!);
  await dev.power.cycle();
  expect(dev.runningVersion).to.equal("2.0.0");
  await dev.secondary.eraseSector(0);
  return { dev, client };
}

describe("devices/nrf52840-mcuboot: a request over a secondary slot without an image header", () => {
  it("swap-move, REVERT due: only the trailers are erased (the secondary's and the primary's), the running image stays and is no longer reverted", async () => {
    const { dev } = await stuckRevert();
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("2.0.0");
    expect(dev.events.map((e) => e.detail)).to.include(
      "Cleared image 0 primary slot trailer due to stuck revert",
    );
    expect(trailerOf(dev.primary).magic).to.equal(BootMagicState.UNSET);
    expect(dev.primary.isErased(dev.primary.size - SECTOR, SECTOR)).to.equal(true);
    // The rest of the old image is still in the secondary: nothing but its trailer was erased.
    expect(same(dev.secondary.read(SECTOR, v1.length - SECTOR), v1.subarray(SECTOR))).to.equal(true);
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("2.0.0");
  });

  it("swap-scratch, REVERT due: only the secondary's trailer is erased; the primary keeps its unconfirmed test state", async () => {
    const { dev } = await stuckRevert("scratch");
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("2.0.0");
    expect(dev.events.map((e) => e.detail)).to.not.include(
      "Cleared image 0 primary slot trailer due to stuck revert",
    );
    expect(trailerOf(dev.primary)).to.include({
      magic: BootMagicState.GOOD,
      imageOk: BootFlagState.UNSET,
      copyDone: BootFlagState.SET,
    });
    expect(same(dev.secondary.read(SECTOR, v1.length - SECTOR), v1.subarray(SECTOR))).to.equal(true);
  });
});
