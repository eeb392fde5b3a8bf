/**
 * The image trailers the emulated MCUboot leaves in flash, byte for byte at the offsets the
 * reference gives (tkey-mcuboot-smp.md B2; MCUboot bootutil_public.c, swap_misc.c,
 * swap_move.c, bootutil_misc.c boot_write_status) for this board: slot 0x76000, write
 * size 4, BOOT_MAX_ALIGN 8, no encryption. So a slot dump reads as MCUboot's own.
 *
 *   magic      end-16 (16 bytes)          image_ok   end-24      copy_done  end-32
 *   swap_info  end-40 (image<<4 | type)   swap_size  end-48 (u32 LE, bytes)
 *   status     swap_size - 128 × 3 × 4: swap-using-move entries, one write unit each, first
 *              byte the state: move step k at k; swap of sector i at 128 + 2i (state 1) and
 *              128 + 2i + 1 (state 2)
 * Every field is written as one whole write unit: its byte(s), then 0xff up to 4 bytes.
 */
import { expect } from "chai";
import type { Nrf52840McubootDevice } from "../../../harness/devices/nrf52840-mcuboot/device.js";
import { sweepSwapCuts } from "../../../harness/devices/nrf52840-mcuboot/swap-sweep.js";
import { parseImage } from "../../../harness/protocol/mcuboot/index.js";
import { app, board } from "./helpers.js";

const SLOT = 0x76000;
const SECTOR = 0x1000;
const MAGIC = Uint8Array.of(
  0x77,
  0xc2,
  0x95,
  0xf3,
  0x60,
  0xd2,
  0xef,
  0x7f,
  0x35,
  0x52,
  0x50,
  0x0f,
  0x2c,
  0xb6,
  0x79,
  0x80,
);
const OFF = {
  magic: SLOT - 16,
  imageOk: SLOT - 24,
  copyDone: SLOT - 32,
  swapInfo: SLOT - 40,
  swapSize: SLOT - 48,
  status: SLOT - 48 - 128 * 3 * 4,
} as const;

const v1 = app("1.0.0", 9000);
const v2 = app("1.1.0", 12000);
const swapSize = Math.max(parseImage(v1).totalSize, parseImage(v2).totalSize);
const sectors = Math.ceil(swapSize / SECTOR);

/** The last sector of a slot as MCUboot would leave it, built from the offsets above. */
function expectedTrailerSector(fields: {
  swapType?: number;
  imageOk?: boolean;
  copyDone?: boolean;
  statusEntries?: [index: number, state: number][];
}): Uint8Array {
  const slot = new Uint8Array(SECTOR).fill(0xff);
  const at = (off: number) => off - (SLOT - SECTOR);
  if (fields.swapType === undefined) return slot;
  for (const [index, state] of fields.statusEntries ?? []) slot[at(OFF.status + index * 4)] = state;
  new DataView(slot.buffer).setUint32(at(OFF.swapSize), swapSize, true);
  slot[at(OFF.swapInfo)] = fields.swapType;
  if (fields.copyDone) slot[at(OFF.copyDone)] = 0x01;
  if (fields.imageOk) slot[at(OFF.imageOk)] = 0x01;
  slot.set(MAGIC, at(OFF.magic));
  return slot;
}

/** A whole swap-using-move of `sectors` sectors: n move entries, then 2n swap entries. */
function completeMoveStatus(): [number, number][] {
  const move = Array.from({ length: sectors }, (_, k): [number, number] => [k, 1]);
  const swap = Array.from({ length: 2 * sectors }, (_, k): [number, number] => [128 + k, (k % 2) + 1]);
  return [...move, ...swap];
}

/** The last sector of a slot, read past the power state (a cut leaves the board off). */
const trailerSector = (dev: Nrf52840McubootDevice, slot: 0 | 1) =>
  dev.flash.peek(
    dev.flash.base + (slot === 0 ? dev.layout.primary : dev.layout.secondary).offset + SLOT - SECTOR,
    SECTOR,
  );

describe("devices/nrf52840-mcuboot: trailers in MCUboot's layout (byte offsets from the reference)", () => {
  it("the offsets this test uses are the reference's for a 0x76000 slot", () => {
    expect(OFF).to.deep.equal({
      magic: 0x75ff0,
      imageOk: 0x75fe8,
      copyDone: 0x75fe0,
      swapInfo: 0x75fd8,
      swapSize: 0x75fd0,
      status: 0x759d0,
    });
    expect(sectors).to.equal(4);
  });

  it("test: the secondary gets magic and swap_info TEST (boot_set_next), image_ok left erased", async () => {
    const { dev, client } = await board(v1);
    await client.upload(v2);
    await client.test(parseImage(v2).hash!);
    const tail = trailerSector(dev, 1);
    const want = new Uint8Array(SECTOR).fill(0xff);
    want.set(MAGIC, SECTOR - 16);
    want[SECTOR - 40] = 0x02;
    expect(tail).to.deep.equal(want);
    expect(trailerSector(dev, 0), "primary trailer untouched").to.deep.equal(
      new Uint8Array(SECTOR).fill(0xff),
    );
  });

  it("confirm with the secondary's hash: magic, image_ok 01, swap_info PERM", async () => {
    const { dev, client } = await board(v1);
    await client.upload(v2);
    await client.confirm(parseImage(v2).hash!);
    const want = new Uint8Array(SECTOR).fill(0xff);
    want.set(MAGIC, SECTOR - 16);
    want[SECTOR - 24] = 0x01;
    want[SECTOR - 40] = 0x03;
    expect(trailerSector(dev, 1)).to.deep.equal(want);
  });

  it("after a TEST swap: the primary trailer is MCUboot's, byte for byte; the secondary's is erased", async () => {
    const { dev, client } = await board(v1);
    await client.upload(v2);
    await client.test(parseImage(v2).hash!);
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("1.1.0");
    expect(trailerSector(dev, 0)).to.deep.equal(
      expectedTrailerSector({ swapType: 0x02, copyDone: true, statusEntries: completeMoveStatus() }),
    );
    expect(trailerSector(dev, 1)).to.deep.equal(expectedTrailerSector({}));
    // The app's confirm adds image_ok and nothing else.
    await client.confirm();
    expect(trailerSector(dev, 0)).to.deep.equal(
      expectedTrailerSector({
        swapType: 0x02,
        copyDone: true,
        imageOk: true,
        statusEntries: completeMoveStatus(),
      }),
    );
  });

  it("after a PERM swap: swap_info PERM, image_ok copied from the secondary at the start, copy_done", async () => {
    const { dev, client } = await board(v1);
    await client.upload(v2);
    await client.confirm(parseImage(v2).hash!);
    await dev.power.cycle();
    expect(trailerSector(dev, 0)).to.deep.equal(
      expectedTrailerSector({
        swapType: 0x03,
        copyDone: true,
        imageOk: true,
        statusEntries: completeMoveStatus(),
      }),
    );
    expect(trailerSector(dev, 1)).to.deep.equal(expectedTrailerSector({}));
  });

  it("after a revert: swap_info REVERT, image_ok set (from the fixup's secondary), copy_done; secondary erased", async () => {
    const { dev, client } = await board(v1);
    await client.upload(v2);
    await client.test(parseImage(v2).hash!);
    await dev.power.cycle();
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("1.0.0");
    expect(trailerSector(dev, 0)).to.deep.equal(
      expectedTrailerSector({
        swapType: 0x04,
        copyDone: true,
        imageOk: true,
        statusEntries: completeMoveStatus(),
      }),
    );
    expect(trailerSector(dev, 1)).to.deep.equal(expectedTrailerSector({}));
  });

  it("a cut before any flash operation of a TEST swap leaves status entries that are a prefix of MCUboot's order", async () => {
    const { dev, client } = await board(v1);
    await client.upload(v2);
    await client.test(parseImage(v2).hash!);
    await dev.power.off();
    const order = completeMoveStatus();
    const { failures } = await sweepSwapCuts(dev, async () => {
      const tail = trailerSector(dev, 0);
      const written = order.filter(([index]) => tail[OFF.status - (SLOT - SECTOR) + index * 4] !== 0xff);
      const prefix = order.slice(0, written.length);
      const states = written.map(([index]) => tail[OFF.status - (SLOT - SECTOR) + index * 4]);
      dev.flash.disarmCut();
      if (JSON.stringify(written) !== JSON.stringify(prefix) || !states.every((s, i) => s === prefix[i]![1]))
        return `entries ${JSON.stringify(written)} with states ${states}`;
      return undefined;
    });
    expect(failures).to.deep.equal([]);
  });

  it("swap-using-scratch: one operation per scratch-full of sectors (2 here), its 3 states write 1, 2, 3 at entries 3k..3k+2", async () => {
    // swap_scratch.c boot_copy_sz: an operation takes as many sectors as the 8 KB scratch
    // holds, from the last image sector down; boot_status_internal_off: entry 3(idx-1)+state-1.
    const { dev, client } = await board(v1, 13, "scratch");
    await client.upload(v2);
    await client.test(parseImage(v2).hash!);
    await dev.power.cycle();
    const operations = Math.ceil(sectors / (dev.layout.scratch.size / SECTOR));
    expect(operations).to.equal(2);
    const entries = Array.from({ length: 3 * operations }, (_, k): [number, number] => [k, (k % 3) + 1]);
    expect(trailerSector(dev, 0)).to.deep.equal(
      expectedTrailerSector({ swapType: 0x02, copyDone: true, statusEntries: entries }),
    );
  });
});
