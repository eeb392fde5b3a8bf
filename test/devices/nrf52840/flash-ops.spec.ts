import { expect } from "chai";
import type { Nrf52840McubootDevice } from "../../../harness/devices/nrf52840-mcuboot/device.js";
import { layoutOf } from "../../../harness/devices/nrf52840-mcuboot/slots.js";
import { BOOT_MAX_IMG_SECTORS, parseImage } from "../../../harness/protocol/mcuboot/index.js";
import { app, board } from "./helpers.js";

/**
 * The flash operations of one upgrade, as MCUboot v2.1.0 makes them (facts read from
 * bootutil: loader.c, swap_move.c, swap_misc.c, bootutil_misc.c), one entry per
 * flash_area_erase / flash_area_write call: a cut "before operation N" is the same moment
 * here as on a board. Each expected list below is built from the source's steps, not from
 * the emulator.
 */
const SECTOR = 0x1000;
const BUF_SZ = 1024; // loader.c BUF_SZ: boot_copy_region's chunk
const W = 4; // nRF52840 write size (BOOT_WRITE_SZ)

interface Op {
  kind: "erase" | "program";
  slot: "primary" | "secondary" | "scratch";
  off: number;
  len: number;
}

async function opsOfBoot(dev: Nrf52840McubootDevice): Promise<Op[]> {
  const ops: Op[] = [];
  const stop = dev.flash.onOperation((op) => {
    const slot = (["primary", "secondary", "scratch"] as const).find((name) => {
      const { offset, size } = dev.layout[name];
      return op.address >= offset && op.address < offset + size;
    })!;
    ops.push({
      kind: op.kind as Op["kind"],
      slot,
      off: op.address - dev.layout[slot].offset,
      len: op.length,
    });
  });
  await dev.power.on();
  stop();
  return ops;
}

const slotSize = 0x76000;
const last = slotSize - SECTOR;
const L = layoutOf({ size: slotSize } as never);
const erase = (slot: Op["slot"], off: number): Op => ({ kind: "erase", slot, off, len: SECTOR });
const write = (slot: Op["slot"], off: number, len: number): Op => ({ kind: "program", slot, off, len });

/** boot_erase_region of one sector, then boot_copy_region: BUF_SZ chunks, every one written. */
function copySector(to: Op["slot"], dstOff: number): Op[] {
  return [erase(to, dstOff), ...copyChunks(to, dstOff, SECTOR)];
}

/** boot_copy_region's writes: `len` bytes in BUF_SZ chunks. */
function copyChunks(to: Op["slot"], dstOff: number, len: number): Op[] {
  return Array.from({ length: Math.ceil(len / BUF_SZ) }, (_, k) =>
    write(to, dstOff + k * BUF_SZ, Math.min(BUF_SZ, len - k * BUF_SZ)),
  );
}

/** boot_erase_region over `pages` pages from `off`: the flash erases page by page, each one operation. */
function erasePages(slot: Op["slot"], off: number, pages: number): Op[] {
  return Array.from({ length: pages }, (_, k) => erase(slot, off + k * SECTOR));
}

/**
 * swap_move.c swap_run for n sectors, as one fresh swap:
 * - first boot_move_sector_up (status index 0): swap_erase_trailer_sectors(primary) (1 erase:
 *   the 1584-byte trailer fits one sector), swap_status_init (swap_info, image_ok when the
 *   secondary's is set, swap_size, magic: one write each), swap_erase_trailer_sectors(secondary);
 * - n moves, top down: erase sector i+1, copy sector i (4 chunks), boot_write_status (1 write);
 * - n swaps, each two states: erase, copy (4 chunks), status.
 */
function moveSwapOps(n: number, secondaryImageOk: boolean): Op[] {
  const ops: Op[] = [erase("primary", last), write("primary", L.swapInfo, W)];
  if (secondaryImageOk) ops.push(write("primary", L.imageOk, W));
  ops.push(write("primary", L.swapSize, W), write("primary", L.magic, 16), erase("secondary", last));
  for (let k = 0; k < n; k++) {
    const i = n - 1 - k;
    ops.push(...copySector("primary", (i + 1) * SECTOR), write("primary", L.status + k * W, W));
  }
  for (let i = 0; i < n; i++) {
    const entry = L.status + (BOOT_MAX_IMG_SECTORS + 2 * i) * W;
    ops.push(...copySector("primary", i * SECTOR), write("primary", entry, W));
    ops.push(...copySector("secondary", i * SECTOR), write("primary", entry + W, W));
  }
  return ops;
}

// Two images of 4 sectors each (13 000 and 13 500 payload bytes behind a 0x200 header).
const v1 = app("1.0.0", 13000);
const v2 = app("2.0.0", 13500);
const N = Math.ceil(Math.max(v1.length, v2.length) / SECTOR);

describe("devices/nrf52840-mcuboot: flash operations of one upgrade, as MCUboot v2.1.0 makes them", () => {
  it("the scenario moves 4 sectors", () => {
    expect(N).to.equal(4);
  });

  it("swap-using-move TEST: 78 operations = 2 trailer erases + 3 trailer writes + 18 per sector (3 steps × (erase + 4 × 1 KB writes + status)) + copy_done", async () => {
    const { dev, client } = await board(v1);
    await client.upload(v2);
    await client.test(parseImage(v2).hash!);
    await dev.power.off();
    const ops = await opsOfBoot(dev);
    const expected = [...moveSwapOps(N, false), write("primary", L.copyDone, W)];
    expect(expected.length).to.equal(2 + 3 + 18 * 4 + 1);
    expect(ops).to.deep.equal(expected);
    expect(ops.length).to.equal(78);
    expect(dev.runningVersion).to.equal("2.0.0");
  });

  it("swap-using-move PERM: 79 (image_ok copied by swap_status_init; swap_set_image_ok then finds it set)", async () => {
    const { dev, client } = await board(v1);
    await client.upload(v2);
    await client.confirm(parseImage(v2).hash!);
    await dev.power.off();
    const ops = await opsOfBoot(dev);
    expect(ops).to.deep.equal([...moveSwapOps(N, true), write("primary", L.copyDone, W)]);
    expect(ops.length).to.equal(79);
  });

  it("swap-using-move REVERT: 83 = fixup_revert (erase + image_ok, swap_size, magic in the secondary) + the PERM-shaped swap", async () => {
    const { dev, client } = await board(v1);
    await client.upload(v2);
    await client.test(parseImage(v2).hash!);
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("2.0.0");
    await dev.power.off();
    const ops = await opsOfBoot(dev);
    const fixup = [
      erase("secondary", last),
      write("secondary", L.imageOk, W),
      write("secondary", L.swapSize, W),
      write("secondary", L.magic, 16),
    ];
    expect(ops).to.deep.equal([...fixup, ...moveSwapOps(N, true), write("primary", L.copyDone, W)]);
    expect(ops.length).to.equal(83);
    expect(dev.runningVersion).to.equal("1.0.0");
  });

  // The emulator's swap-using-scratch follows MCUboot v2.2.0's swap_scratch.c (swap_move.c and
  // boot_copy_region are the same in both releases as far as flash operations go).
  it("swap-using-scratch TEST: 77 = v2.2.0 boot_swap_sectors for 4 sectors through the 8 KB scratch, 2 sectors an operation", async () => {
    const { dev, client } = await board(v1, 5, "scratch");
    await client.upload(v2);
    await client.test(parseImage(v2).hash!);
    await dev.power.off();
    const ops = await opsOfBoot(dev);
    const SCRATCH = 0x2000;
    // The scratch trailer: same field offsets from its end as a slot's.
    const X = layoutOf({ size: SCRATCH } as never);
    const statusInit = (slot: Op["slot"], t: typeof L) => [
      write(slot, t.swapInfo, W),
      write(slot, t.swapSize, W),
      write(slot, t.magic, 16),
    ];
    const expected: Op[] = [];
    // swap_run: the last operation first (sectors 2-3, boot_copy_sz), then sectors 0-1.
    for (const [k, imgOff] of [0x2000, 0].entries()) {
      const entry = (state: number) => write("primary", L.status + (3 * k + state) * W, W);
      // State 0: erase the scratch; the first operation records the swap in the scratch,
      // then (the images stay out of the trailer sector) in the primary, and erases the
      // scratch again; copy secondary → scratch.
      expected.push(...erasePages("scratch", 0, 2));
      if (k === 0)
        expected.push(...statusInit("scratch", X), erase("primary", last), ...statusInit("primary", L));
      if (k === 0) expected.push(...erasePages("scratch", 0, 2));
      expected.push(...copyChunks("scratch", 0, SCRATCH), entry(0));
      // State 1: the first operation erases the secondary's trailer first (v2.2.0; v2.1.0 did it
      // after the copy), then primary → secondary.
      if (k === 0) expected.push(erase("secondary", last));
      expected.push(
        ...erasePages("secondary", imgOff, 2),
        ...copyChunks("secondary", imgOff, SCRATCH),
        entry(1),
      );
      // State 2: scratch → primary.
      expected.push(...erasePages("primary", imgOff, 2), ...copyChunks("primary", imgOff, SCRATCH), entry(2));
    }
    expected.push(write("primary", L.copyDone, W));
    expect(ops).to.deep.equal(expected);
    expect(ops.length).to.equal(77);
    expect(dev.runningVersion).to.equal("2.0.0");
  });

  it("overwrite-only: erase the image's sectors and the trailer, copy in 1 KB chunks (the last one shorter), magic, erase the secondary's first and last sectors", async () => {
    const { dev, client } = await board(v1, 5, "overwrite-only");
    await client.upload(v2);
    await client.test(parseImage(v2).hash!);
    await dev.power.off();
    const ops = await opsOfBoot(dev);
    // boot_copy_image (MCUBOOT_OVERWRITE_ONLY_FAST): size = image size rounded up to the write
    // size, one more write unit when already aligned.
    const size = v2.length + W - (v2.length % W);
    const chunks = Math.ceil(size / BUF_SZ);
    const expected: Op[] = [
      ...[0, 1, 2, 3].map((i) => erase("primary", i * SECTOR)),
      erase("primary", last),
      ...Array.from({ length: chunks }, (_, k) =>
        write("primary", k * BUF_SZ, Math.min(BUF_SZ, size - k * BUF_SZ)),
      ),
      write("primary", L.magic, 16),
      erase("secondary", 0),
      erase("secondary", last),
    ];
    expect(ops).to.deep.equal(expected);
    expect(ops.length).to.equal(4 + 1 + 14 + 1 + 2);
    expect(dev.runningVersion).to.equal("2.0.0");
  });
});
