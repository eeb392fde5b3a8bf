import { bootMagic } from "../../protocol/mcuboot/index.js";
import { copyRegion, type FlashArea } from "./flash-area.js";
import { MCUBOOT_MAX_ALIGN, NRF52840_FLASH } from "./profile.js";
import { layoutOf, TRAILER_SIZE } from "./slots.js";

/**
 * MCUBOOT_OVERWRITE_ONLY as Zephyr builds it (CONFIG_BOOT_UPGRADE_ONLY defines
 * MCUBOOT_OVERWRITE_ONLY and MCUBOOT_OVERWRITE_ONLY_FAST; loader.c boot_copy_image):
 * 1. erase the primary's sectors up to the secondary image's size, then its trailer sectors;
 * 2. copy the image (its size rounded up to the write size; a size already aligned gets one
 *    more write unit, as the source computes it) from the secondary;
 * 3. write the magic to the primary trailer (no flags: no revert, no copy_done);
 * 4. erase the secondary's first sector (its header) and then its last (the request); the
 *    rest of the secondary keeps the image's bytes.
 * The request in the secondary trailer stays until the very end, so a cut before step 4
 * starts the copy again on the next boot. A cut between the two erases of step 4 leaves a
 * request over a slot without a header: boot_validate_slot finds no bootable image and, in
 * overwrite-only, leaves the slot as it is; the primary is already whole.
 */
export async function overwrite(
  primary: FlashArea,
  secondary: FlashArea,
  srcSize: number,
  log: (d: string) => void,
): Promise<void> {
  const sector = primary.sectorSize;
  const n = Math.max(1, Math.ceil(srcSize / sector));
  const size = srcSize + NRF52840_FLASH.writeSize - (srcSize % NRF52840_FLASH.writeSize);
  log("Image 0 upgrade secondary slot -> primary slot");
  log(`overwrite-only: erasing ${n} sectors and the trailer, copying 0x${size.toString(16)} bytes`);
  for (let i = 0; i < n; i++) await primary.eraseSector(i);
  const trailerSectors = Math.ceil(TRAILER_SIZE / sector);
  for (let i = primary.sectorCount - trailerSectors; i < primary.sectorCount; i++)
    await primary.eraseSector(i);
  await copyRegion(secondary, 0, primary, 0, size);
  await primary.writeField(layoutOf(primary).magic, bootMagic(MCUBOOT_MAX_ALIGN));
  await secondary.eraseSector(0);
  await secondary.eraseSector(secondary.sectorCount - 1);
  log("overwrite-only: done");
}

/** True when the secondary trailer still carries an upgrade request (magic written). */
export function hasRequest(secondary: FlashArea): boolean {
  const layout = layoutOf(secondary);
  const magic = secondary.read(layout.magic, 16);
  const good = bootMagic(MCUBOOT_MAX_ALIGN);
  return magic.every((b, i) => b === good[i]);
}
