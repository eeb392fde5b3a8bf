import { expect } from "chai";
import { trailerOf } from "../../../harness/devices/nrf52840-mcuboot/slots.js";
import { sweepDoubleCuts, sweepSwapCuts } from "../../../harness/devices/nrf52840-mcuboot/swap-sweep.js";
import {
  BOOT_MAGIC_ALIGN8,
  BootFlagState,
  BootMagicState,
  parseImage,
  SwapType,
} from "../../../harness/protocol/mcuboot/index.js";
import { app, board } from "./helpers.js";

const v1 = app("1.0.0", 9000);
const v2 = app("2.0.0", 13000);
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

const scratchBoard = () => board(v1, 13, "scratch");

type Dev = Awaited<ReturnType<typeof scratchBoard>>["dev"];

/**
 * The swapped state: v2 running from the primary, v1 in the secondary, the primary trailer
 * with copy_done set and `imageOk`, `swapType` when given, and the secondary's request gone
 * when `requestGone`.
 */
function swappedToV2(
  dev: Dev,
  expected: { imageOk: BootFlagState; swapType?: SwapType; requestGone?: boolean },
): boolean {
  const t = trailerOf(dev.primary);
  return (
    dev.runningVersion === "2.0.0" &&
    same(dev.primary.read(0, v2.length), v2) &&
    same(dev.secondary.read(0, v1.length), v1) &&
    t.copyDone === BootFlagState.SET &&
    t.imageOk === expected.imageOk &&
    (expected.swapType === undefined || t.swapType === expected.swapType) &&
    (!expected.requestGone || trailerOf(dev.secondary).magic === BootMagicState.UNSET)
  );
}

describe("devices/nrf52840-mcuboot: swap-using-scratch mode", () => {
  it("test → v2 runs unconfirmed through the scratch area; no confirm → reverted, old image confirmed", async () => {
    const { dev, client } = await scratchBoard();
    expect(dev.identity().bootloader).to.equal("mcuboot swap-scratch (emulated)");
    await client.upload(v2);
    await client.test(parseImage(v2).hash!);
    const erasesBefore = dev.flash.counters.erases;
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("2.0.0");
    expect(dev.flash.counters.erases - erasesBefore).to.be.above(8);
    expect(dev.events.map((e) => e.detail)).to.include("swap-scratch TEST: done");
    expect(trailerOf(dev.primary)).to.include({
      magic: BootMagicState.GOOD,
      copyDone: BootFlagState.SET,
      imageOk: BootFlagState.UNSET,
    });
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("1.0.0");
    expect(same(dev.primary.read(0, v1.length), v1)).to.equal(true);
    expect(same(dev.secondary.read(0, v2.length), v2)).to.equal(true);
  });

  it("a cut before any flash operation of the swap resumes to the documented state", async () => {
    const { dev, client } = await scratchBoard();
    await client.upload(v2);
    await client.test(parseImage(v2).hash!);
    await dev.power.off();
    const { total, failures } = await sweepSwapCuts(dev, async () => {
      await dev.power.on();
      const ok = swappedToV2(dev, { imageOk: BootFlagState.UNSET, requestGone: true });
      return ok ? undefined : "not the documented state";
    });
    expect(total).to.be.above(20);
    expect(failures).to.deep.equal([]);
  });

  it("PERM: every cut ends on v2 confirmed (image_ok from the secondary's request, through the scratch and primary trailers)", async () => {
    const { dev, client } = await scratchBoard();
    await client.upload(v2);
    await client.confirm(parseImage(v2).hash!);
    await dev.power.off();
    const { failures } = await sweepSwapCuts(dev, async () => {
      await dev.power.on();
      const ok = swappedToV2(dev, { imageOk: BootFlagState.SET, swapType: SwapType.PERM, requestGone: true });
      return ok ? undefined : "not the documented state";
    });
    expect(failures).to.deep.equal([]);
  });

  it("two cuts in one TEST swap (the second during the resume) still end in the documented state", async () => {
    const { dev, client } = await scratchBoard();
    await client.upload(v2);
    await client.test(parseImage(v2).hash!);
    await dev.power.off();
    const failures = await sweepDoubleCuts(
      dev,
      (total) => {
        const pairs: [number, number][] = [];
        for (let a = 1; a <= total; a += 3) pairs.push([a, 1 + ((a * 7) % 11)]);
        return pairs;
      },
      () => (swappedToV2(dev, { imageOk: BootFlagState.UNSET }) ? undefined : "not the documented state"),
    );
    expect(failures).to.deep.equal([]);
  });

  it("REVERT: no fixup of the secondary; while the primary trailer is erased the swap type waits in the scratch trailer, and every cut ends reverted with swap_info REVERT", async () => {
    // swap_scratch.c boot_swap_sectors writes the scratch trailer (swap_status_init) before
    // erasing the primary's; swap_move.c fixup_revert is not part of swap-using-scratch.
    const { dev, client } = await scratchBoard();
    await client.upload(v2);
    await client.test(parseImage(v2).hash!);
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("2.0.0");
    await dev.power.off();
    const at = (part: { offset: number; size: number }, fromEnd: number, n: number) =>
      dev.flash.peek(dev.flash.base + part.offset + part.size - fromEnd, n);
    const erased = (b: Uint8Array) => b.every((x) => x === 0xff);
    let waitingInScratch = 0;
    const { failures } = await sweepSwapCuts(dev, async () => {
      const problems: string[] = [];
      if (!erased(at(dev.layout.secondary, 16, 16))) problems.push("the secondary got a magic");
      if (
        erased(at(dev.layout.primary, 16, 16)) &&
        same(at(dev.layout.scratch, 16, 16), BOOT_MAGIC_ALIGN8) &&
        at(dev.layout.scratch, 40, 1)[0] === SwapType.REVERT
      )
        waitingInScratch++;
      await dev.power.on();
      const t = trailerOf(dev.primary);
      if (dev.runningVersion !== "1.0.0") problems.push(`runs ${dev.runningVersion}`);
      if (!same(dev.primary.read(0, v1.length), v1) || !same(dev.secondary.read(0, v2.length), v2))
        problems.push("images not reverted");
      if (t.swapType !== SwapType.REVERT) problems.push(`primary swap_info ${t.swapType}`);
      if (t.imageOk !== BootFlagState.SET || t.copyDone !== BootFlagState.SET) problems.push("flags");
      if (trailerOf(dev.secondary).magic !== BootMagicState.UNSET) problems.push("secondary trailer");
      return problems.length ? problems.join("; ") : undefined;
    });
    expect(failures).to.deep.equal([]);
    expect(waitingInScratch, "cuts with the primary trailer erased and REVERT in the scratch").to.be.above(0);
  });
});
