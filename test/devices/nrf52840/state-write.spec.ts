/**
 * Image state write when MCUboot's boot_set_next refuses (bootutil_public.c): Zephyr's
 * img_mgmt_set_next_boot_slot_common (img_mgmt_state.c) translates its BOOT_E* code into
 * the image group's rc: EBADIMAGE → INVALID_IMAGE_HEADER_MAGIC, EBADVECT →
 * INVALID_IMAGE_VECTOR_TABLE, EFLASH → FLASH_WRITE_FAILED, anything else → UNKNOWN.
 */
import { expect } from "chai";
import { SmpError } from "../../../harness/clients/smp/index.js";
import type { Nrf52840McubootDevice } from "../../../harness/devices/nrf52840-mcuboot/device.js";
import { trailerOf } from "../../../harness/devices/nrf52840-mcuboot/slots.js";
import { BootMagicState, parseImage } from "../../../harness/protocol/mcuboot/index.js";
import { parseFault } from "../../../harness/sim/faults.js";
import { app, board } from "./helpers.js";

const v1 = app("1.0.0", 9000);
const v2 = app("2.0.0", 11000);
const hashOf = (img: Uint8Array) => parseImage(img).hash!;
const rcName = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, "an SMP error").to.be.instanceOf(SmpError);
  return (e as SmpError).rcName;
};

/** 16 bytes that are neither erased nor MCUboot's magic: boot_read_swap_state reads BOOT_MAGIC_BAD. */
function spoilMagic(dev: Nrf52840McubootDevice, slot: "primary" | "secondary"): void {
  const part = dev.layout[slot];
  dev.program(part.offset + part.size - 16, new Uint8Array(16).fill(0x5a));
  expect(trailerOf(dev[slot]).magic).to.equal(BootMagicState.BAD);
}

/** Both slots' bytes and the flash's operation counters, to show a request wrote nothing. */
function snapshot(dev: Nrf52840McubootDevice) {
  return {
    primary: dev.primary.read(0, dev.primary.size),
    secondary: dev.secondary.read(0, dev.secondary.size),
    counters: dev.flash.counters,
  };
}

describe("devices/nrf52840-mcuboot: state write refused by boot_set_next (img_mgmt_state.c)", () => {
  it("secondary trailer magic BAD: test and permanent answer INVALID_IMAGE_HEADER_MAGIC (EBADIMAGE), nothing written", async () => {
    const { dev, client } = await board(v1);
    await client.upload(v2);
    spoilMagic(dev, "secondary");
    const before = snapshot(dev);
    expect(await rcName(client.test(hashOf(v2)))).to.equal("IMG_MGMT_ERR_INVALID_IMAGE_HEADER_MAGIC (23)");
    expect(await rcName(client.confirm(hashOf(v2)))).to.equal("IMG_MGMT_ERR_INVALID_IMAGE_HEADER_MAGIC (23)");
    expect(snapshot(dev)).to.deep.equal(before);
    expect((await client.list()).map((i) => [i.slot, i.version, i.pending])).to.deep.equal([
      [0, "1.0.0", false],
      [1, "2.0.0", false],
    ]);
    await dev.power.cycle();
    expect(dev.runningVersion, "no swap was requested").to.equal("1.0.0");
  });

  it("primary trailer magic BAD: a confirm of the running image never reaches boot_set_next (so no EBADVECT), nothing written", async () => {
    // img_mgmt_set_next_boot_slot: with one image, a BAD primary magic leaves the swap type
    // NONE, TEST or PERM. NONE: confirming the next boot slot answers 0 before boot_set_next;
    // TEST/PERM: a confirm of the active slot is IMAGE_ALREADY_PENDING.
    const { dev, client } = await board(v1);
    spoilMagic(dev, "primary");
    const before = snapshot(dev);
    expect((await client.confirm())[0]).to.include({ slot: 0, active: true, confirmed: true });
    expect((await client.confirm(hashOf(v1)))[0]).to.include({ slot: 0, active: true, confirmed: true });
    expect(snapshot(dev)).to.deep.equal(before);
    await client.upload(v2);
    await client.confirm(hashOf(v2));
    const pending = snapshot(dev);
    expect(await rcName(client.confirm())).to.equal("IMG_MGMT_ERR_IMAGE_ALREADY_PENDING (28)");
    expect(snapshot(dev)).to.deep.equal(pending);
  });

  it("a trailer write that fails answers FLASH_WRITE_FAILED (EFLASH)", async () => {
    const { dev, client } = await board(v1);
    await client.upload(v2);
    dev.faults.add(parseFault(`flash-op:program#${dev.flash.counters.programs + 1}=flash-fail`));
    expect(await rcName(client.test(hashOf(v2)))).to.equal("IMG_MGMT_ERR_FLASH_WRITE_FAILED (12)");
    expect(dev.faults.fired).to.have.length(1);
  });
});
