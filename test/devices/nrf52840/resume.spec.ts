import { expect } from "chai";
import type { Nrf52840McubootDevice } from "../../../harness/devices/nrf52840-mcuboot/device.js";
import type { FlashArea } from "../../../harness/devices/nrf52840-mcuboot/flash-area.js";
import { layoutOf, trailerOf } from "../../../harness/devices/nrf52840-mcuboot/slots.js";
import {
  BootFlagState,
  BootMagicState,
  parseImage,
  publicOf,
  SwapType,
} from "../../../harness/protocol/mcuboot/index.js";
import { app, board, goodKey, wrongKey } from "./helpers.js";

const v1 = app("1.0.0", 9000);
const SECTOR = 0x1000;

interface Op {
  n: number;
  kind: string;
  address: number;
}

/** A slot read through the debugger (flash peek), for a board that is off. */
function offView(dev: Nrf52840McubootDevice, which: "primary" | "secondary"): FlashArea {
  const { offset, size } = dev.layout[which];
  return {
    size,
    flash: dev.flash,
    read: (off: number, len: number) => dev.flash.peek(offset + off, len),
    isErased: (off: number, len: number) => dev.flash.peek(offset + off, len).every((b) => b === 0xff),
  } as unknown as FlashArea;
}

/** The flash operations of one power-on (the board must be off). */
async function opsOfBoot(dev: Nrf52840McubootDevice): Promise<Op[]> {
  const ops: Op[] = [];
  const stop = dev.flash.onOperation((op) => ops.push({ n: op.n, kind: op.kind, address: op.address }));
  await dev.power.on();
  stop();
  return ops;
}

/**
 * Boots the staged swap once to learn its operations, then again from the same flash with
 * power cut just after the secondary's trailer page is erased (the request consumed) and
 * before the first move: the primary holds the whole record, no status entry is written.
 */
async function cutBeforeFirstStep(dev: Nrf52840McubootDevice) {
  const staged = dev.flash.snapshot();
  const ops = await opsOfBoot(dev);
  const secondaryTrailer = dev.layout.secondary.offset + dev.layout.secondary.size - SECTOR;
  const consumed = ops.filter((o) => o.kind === "erase" && o.address === secondaryTrailer).at(-1)!;
  await dev.power.off();
  dev.flash.restore(staged);
  dev.flash.armCut(consumed.n + 1);
  await dev.power.on();
  expect(dev.state, "cut during the boot").to.equal("off");
  const primary = offView(dev, "primary");
  const t = trailerOf(primary);
  expect(t.magic).to.equal(BootMagicState.GOOD);
  expect(t.copyDone).to.equal(BootFlagState.UNSET);
  expect(primary.isErased(layoutOf(primary).status, 4), "no status entry").to.equal(true);
  expect(trailerOf(offView(dev, "secondary")).magic, "request consumed").to.equal(BootMagicState.UNSET);
  return { secondaryTrailer };
}

describe("devices/nrf52840-mcuboot: a swap-using-move recorded with no status entry (loader.c boot_prepare_image_for_update)", () => {
  it("the secondary is validated again: one the bootloader no longer accepts is erased, swap FAIL sets the primary's image_ok, the old image runs", async () => {
    // v2 is signed with a second key the first bootloader knows; the one flashed between the
    // cut and the next boot does not (what MCUboot built with another key file does).
    const { dev, client } = await board(v1, 5, undefined, { keys: [publicOf(goodKey), publicOf(wrongKey)] });
    const v2 = app("2.0.0", 11000, wrongKey);
    await client.upload(v2);
    await client.test(parseImage(v2).hash!);
    await dev.power.off();
    await cutBeforeFirstStep(dev);
    expect(offView(dev, "primary").read(0, v1.length), "no image moved yet").to.deep.equal(v1);
    dev.provision([publicOf(goodKey)]);
    await dev.power.on();
    expect(dev.runningVersion).to.equal("1.0.0");
    const log = dev.events.map((e) => e.detail);
    expect(log.join("\n")).to.match(/Image in the secondary slot is not valid!/);
    expect(dev.secondary.isErased(0, dev.secondary.size), "secondary erased").to.equal(true);
    expect(trailerOf(dev.primary)).to.include({
      magic: BootMagicState.GOOD,
      swapType: SwapType.TEST,
      imageOk: BootFlagState.SET,
      copyDone: BootFlagState.UNSET,
    });
    // The record stays (copy_done unset): every boot finds it, no image, FAIL again; v1 runs.
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("1.0.0");
    const list = await client.list();
    expect(list.map((i) => [i.slot, i.version, i.active, i.confirmed])).to.deep.equal([
      [0, "1.0.0", true, true],
    ]);
  });

  it("a REVERT restarted: fixup_revert writes the secondary trailer again before the first move; a cut there ends through a PERM swap (swap_info 03), else REVERT (04)", async () => {
    const { dev, client } = await board(v1);
    const v2 = app("2.0.0", 11000);
    await client.upload(v2);
    await client.test(parseImage(v2).hash!);
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("2.0.0");
    await dev.power.off();
    const { secondaryTrailer } = await cutBeforeFirstStep(dev);
    const afterCut = dev.flash.snapshot();

    const ops = await opsOfBoot(dev);
    const s = dev.layout.secondary.offset;
    const l = layoutOf(dev.secondary);
    expect(
      ops.slice(0, 5).map((o) => [o.kind, o.address]),
      "fixup_revert, then the first move erases the secondary trailer",
    ).to.deep.equal([
      ["erase", secondaryTrailer],
      ["program", s + l.imageOk],
      ["program", s + l.swapSize],
      ["program", s + l.magic],
      ["erase", secondaryTrailer],
    ]);
    expect(dev.runningVersion).to.equal("1.0.0");
    expect(trailerOf(dev.primary)).to.include({
      swapType: SwapType.REVERT,
      imageOk: BootFlagState.SET,
      copyDone: BootFlagState.SET,
    });
    expect(trailerOf(dev.secondary).magic).to.equal(BootMagicState.UNSET);

    // Cut again, between the fixup's magic and that erase: the secondary reads PERM.
    await dev.power.off();
    dev.flash.restore(afterCut);
    dev.flash.armCut(dev.flash.counters.ops + 5);
    await dev.power.on();
    expect(trailerOf(offView(dev, "secondary"))).to.include({
      magic: BootMagicState.GOOD,
      imageOk: BootFlagState.SET,
    });
    await dev.power.on();
    expect(dev.runningVersion).to.equal("1.0.0");
    expect(dev.primary.read(0, v1.length)).to.deep.equal(v1);
    expect(trailerOf(dev.primary)).to.include({
      swapType: SwapType.PERM,
      imageOk: BootFlagState.SET,
      copyDone: BootFlagState.SET,
    });
    expect(trailerOf(dev.secondary).magic).to.equal(BootMagicState.UNSET);
  });
});
