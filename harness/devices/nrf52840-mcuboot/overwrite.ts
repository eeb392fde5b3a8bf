import { bootMagic } from "../../protocol/mcuboot/index.js";
import type { FlashArea } from "./flash-area.js";
import { MCUBOOT_MAX_ALIGN } from "./profile.js";
import { layoutOf } from "./slots.js";

/**
 * MCUBOOT_OVERWRITE_ONLY: the secondary image is copied over the primary, then the
 * secondary is erased; no revert, no trailer flags left behind. The request in the
 * secondary trailer stays until the copy is whole, so a cut anywhere in the copy simply
 * starts it again on the next boot; once the request is erased the primary is complete.
 */
export async function overwrite(
  primary: FlashArea,
  secondary: FlashArea,
  bytes: number,
  log: (d: string) => void,
): Promise<void> {
  const n = Math.ceil(bytes / primary.sectorSize);
  log(`overwrite-only: copying ${n} sectors`);
  const last = primary.sectorCount - 1;
  for (let i = 0; i < n; i++) {
    await primary.eraseSector(i);
    const data = secondary.read(i * secondary.sectorSize, secondary.sectorSize);
    if (!data.every((b) => b === secondary.flash.erasedValue))
      await primary.write(i * primary.sectorSize, data);
  }
  if (!primary.isErased(last * primary.sectorSize, primary.sectorSize)) await primary.eraseSector(last);
  // The request goes first: from here on the next boot has nothing left to do.
  await secondary.eraseSector(secondary.sectorCount - 1);
  for (let i = 0; i < secondary.sectorCount - 1; i++)
    if (!secondary.isErased(i * secondary.sectorSize, secondary.sectorSize)) await secondary.eraseSector(i);
  log("overwrite-only: done");
}

/** True when the secondary trailer still carries an upgrade request (magic written). */
export function hasRequest(secondary: FlashArea): boolean {
  const layout = layoutOf(secondary);
  const magic = secondary.read(layout.magic, 16);
  const good = bootMagic(MCUBOOT_MAX_ALIGN);
  return magic.every((b, i) => b === good[i]);
}
