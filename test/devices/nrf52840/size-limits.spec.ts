/**
 * How big an image MCUboot accepts, and what it does with one that does not fit (MCUboot
 * sources, read at 2d4bacc3):
 * - bootutil_img_validate (image_validate.c) refuses an image whose end (header, body, TLVs)
 *   lies past bootutil_max_image_size (bootutil_misc.c) = app_max_size: for swap-using-move
 *   (swap_move.c) the slot less its trailer sector and the spare sector, 0x74000 here; for
 *   swap-using-scratch (swap_scratch.c app_max_size_adjust_to_trailer) up to the trailer,
 *   0x759d0 here. This holds for both slots: boot_validate_slot erases an invalid secondary
 *   ("Image in the secondary slot is not valid!"), and BOOT_VALIDATE_SLOT0 does not start
 *   an invalid primary.
 * - swap_move.c swap_run checks the larger image of the pair against the space before a new
 *   swap: "Not enough free space to run swap upgrade" leaves both slots as they are (no
 *   scramble, the request stays); boot_perform_update then still writes image_ok (PERM,
 *   REVERT) and copy_done to the primary, with the swap type loader.c had decided.
 * - swap-using-scratch has no such check: an image reaching into the trailer sector is
 *   swapped, its last sectors through the scratch area's trailer (`use_scratch`).
 */
import { expect } from "chai";
import { maxImageSize, trailerOf } from "../../../harness/devices/nrf52840-mcuboot/slots.js";
import {
  BOOT_MAGIC_ALIGN8,
  BootFlagState,
  BootMagicState,
  parseImage,
  SwapType,
} from "../../../harness/protocol/mcuboot/index.js";
import { app, appOfTotal, board, offBoard } from "./helpers.js";

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;
const MOVE_MAX = 0x74000;
const SCRATCH_MAX = 0x759d0;

describe("devices/nrf52840-mcuboot: image size limits (bootutil_max_image_size, swap_run)", () => {
  it("the largest image is app_max_size: 0x74000 for swap-using-move, up to the trailer (0x759d0) for swap-using-scratch", () => {
    const { dev } = offBoard();
    expect(maxImageSize("move", dev.primary, dev.secondary)).to.equal(MOVE_MAX);
    expect(maxImageSize("scratch", dev.primary, dev.secondary)).to.equal(SCRATCH_MAX);
  });

  for (const [mode, total] of [
    ["move", MOVE_MAX + 0x400],
    ["scratch", SCRATCH_MAX + 0x100],
  ] as const) {
    it(`swap-${mode}: a pending image past that size fails validation and is erased; the old image runs`, async () => {
      const v1 = app("1.0.0", 9000);
      const { dev, client } = await board(v1, 5, mode === "scratch" ? "scratch" : undefined);
      const big = appOfTotal("2.0.0", total);
      expect(big.length).to.be.above(mode === "move" ? MOVE_MAX : SCRATCH_MAX);
      dev.program(dev.layout.secondary.offset, big);
      await client.test(parseImage(big).hash!);
      await dev.power.cycle();
      expect(dev.runningVersion).to.equal("1.0.0");
      expect(dev.secondary.isErased(0, dev.secondary.size)).to.equal(true);
      expect(dev.events.map((e) => e.detail).join("\n")).to.match(
        /Image in the secondary slot is not valid! \(TLV beyond image size/,
      );
    });
  }

  it("swap-move: a primary image past 0x74000 is not started, and a pending upgrade is skipped ('Not enough free space'): request kept, image_ok and copy_done written", async () => {
    const { dev } = offBoard();
    const bigV1 = appOfTotal("1.0.0", MOVE_MAX + 0x400);
    const v2 = appOfTotal("2.0.0", 20000, { confirm: true });
    dev.program(dev.layout.primary.offset, bigV1);
    dev.program(dev.layout.secondary.offset, v2);
    await dev.power.on();
    const log = dev.events.map((e) => e.detail);
    expect(log).to.include("Not enough free space to run swap upgrade");
    expect(log).to.include(`required ${118 * 0x1000} bytes but only ${117 * 0x1000} are available`);
    expect(dev.state).to.equal("no-image");
    expect(log.join("\n")).to.match(/Image in the primary slot is not valid! \(TLV beyond image size/);
    // Nothing swapped, nothing erased: the secondary still holds its image and its PERM request.
    expect(same(dev.secondary.read(0, v2.length), v2)).to.equal(true);
    expect(same(dev.primary.read(0, bigV1.length), bigV1)).to.equal(true);
    // boot_perform_update's image_ok (PERM) and copy_done land in the primary trailer, no magic.
    expect(trailerOf(dev.primary)).to.include({
      magic: BootMagicState.UNSET,
      imageOk: BootFlagState.SET,
      copyDone: BootFlagState.SET,
    });
  });

  it("swap-scratch: an image reaching into the trailer sector is swapped (the last operation through the scratch trailer) and reverted whole", async () => {
    const v1 = app("1.0.0", 9000);
    const { dev, client } = await board(v1, 13, "scratch");
    const big = appOfTotal("2.0.0", 0x75800);
    expect(big.length)
      .to.be.above(117 * 0x1000)
      .and.at.most(SCRATCH_MAX);
    dev.program(dev.layout.secondary.offset, big);
    await client.test(parseImage(big).hash!);
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("2.0.0");
    expect(same(dev.primary.read(0, big.length), big)).to.equal(true);
    expect(same(dev.secondary.read(0, v1.length), v1)).to.equal(true);
    expect(trailerOf(dev.primary)).to.include({
      magic: BootMagicState.GOOD,
      copyDone: BootFlagState.SET,
      imageOk: BootFlagState.UNSET,
      swapSize: big.length,
    });
    // The scratch ends holding the last operation's sectors: no trailer (magic not GOOD).
    expect(trailerOf(dev.scratch).magic).to.not.equal(BootMagicState.GOOD);
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("1.0.0");
    expect(same(dev.secondary.read(0, big.length), big)).to.equal(true);
  });

  for (const kind of ["test", "perm"] as const) {
    it(`swap-scratch ${kind.toUpperCase()}: a cut before any of the first operation's flash operations (and a sample of the rest) resumes to the documented state; that operation keeps its status in the scratch`, async () => {
      const v1 = app("1.0.0", 9000);
      const { dev, client } = await board(v1, 13, "scratch");
      const big = appOfTotal("2.0.0", 0x75800);
      dev.program(dev.layout.secondary.offset, big);
      if (kind === "perm") await client.confirm(parseImage(big).hash!);
      else await client.test(parseImage(big).hash!);
      await dev.power.off();
      // sweepSwapCuts over all ~1000 operations of a 118-sector swap takes minutes: the first
      // operation (the one through the scratch trailer, about 25 flash operations) is cut
      // everywhere, the rest sampled.
      const staged = dev.flash.snapshot();
      const start = dev.flash.counters.ops;
      await dev.power.on();
      const total = dev.flash.counters.ops - start;
      expect(total).to.be.above(500);
      const scratchEnd = dev.flash.base + dev.layout.scratch.offset + dev.layout.scratch.size;
      let statusInScratch = 0;
      const failures: string[] = [];
      for (let n = 1; n <= total; n += n < 28 ? 1 : 211) {
        await dev.power.off();
        dev.flash.restore(staged);
        dev.flash.armCut(start + n);
        await dev.power.on();
        // The scratch trailer as the cut left it: magic GOOD and its first status entry (state 1).
        const magic = dev.flash.peek(scratchEnd - 16, 16);
        const entry = dev.flash.peek(scratchEnd - 60, 1)[0];
        if (same(magic, BOOT_MAGIC_ALIGN8) && entry === 1) statusInScratch++;
        await dev.power.on();
        const t = trailerOf(dev.primary);
        const ok =
          dev.runningVersion === "2.0.0" &&
          same(dev.primary.read(0, big.length), big) &&
          same(dev.secondary.read(0, v1.length), v1) &&
          t.swapType === (kind === "perm" ? SwapType.PERM : SwapType.TEST) &&
          t.copyDone === BootFlagState.SET &&
          t.imageOk === (kind === "perm" ? BootFlagState.SET : BootFlagState.UNSET) &&
          trailerOf(dev.secondary).magic === BootMagicState.UNSET &&
          trailerOf(dev.scratch).magic !== BootMagicState.GOOD;
        if (!ok) failures.push(`cut before op ${n}: not the documented state`);
      }
      expect(failures).to.deep.equal([]);
      expect(statusInScratch, "cuts that found the first operation's status in the scratch").to.be.above(0);
    });
  }
});
