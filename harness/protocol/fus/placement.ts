/**
 * Where a FUS/stack image lies in flash, as ST's shipped files and release notes show it
 * (STM32CubeWB 1.1.0–1.24.0, fact sheet §5.6–5.7; AN5185 says only "aligned to sector
 * start" and "image total size expressed as multiple of 4 KBytes").
 *
 * - The image footer's flash size is the image (body + image footer) rounded up to 4 KB
 *   sectors. For almost every file that is also the whole file rounded up; Thread_FTD 1.6.0
 *   (348 236 B, 85 sectors) is the one where the signature tail spills into one more sector.
 * - So the image starts `flash sectors` × 4 KB below the end of the sector holding the image
 *   footer's last byte. Neither the file's end nor the footer's end is on a sector boundary.
 * - The release notes' install address for a 1 MB part is a top address minus the whole file
 *   rounded up to sectors: 0x080F4000 for classic stacks, FUS 2.x and Safeboot, 0x080F0000
 *   for "FUSv2 only" stacks, 0x080F2000 for the FUS 1.2.0 files (whose footer states no
 *   version).
 */
import type { ImageFooter } from "./footer.js";

export const SECTOR_SIZE = 4096;
const FLASH_BASE = 0x0800_0000;

/** Start (offset or address) of an image whose image footer ends at `imageFooterEnd`. */
export function imageStart(imageFooterEnd: number, flashSectors: number): number {
  return Math.ceil(imageFooterEnd / SECTOR_SIZE) * SECTOR_SIZE - flashSectors * SECTOR_SIZE;
}

/** The flash size an image footer states for an image (body + image footer) of this length. */
export function flashSectorsOf(imageLength: number): number {
  return Math.ceil(imageLength / SECTOR_SIZE);
}

/** The FUS area on a 1 MB STM32WB5x without a stack: the top the release notes install below. */
export const FUS_AREA_1MB = 0x080f_4000;
/** The top "FUSv2 only" stacks are installed below (the four sectors above are kept free). */
export const FUSV2_STACK_TOP_1MB = 0x080f_0000;
/** The top of the FUS 1.2.0 files in the 1.24.0 release notes (AN5185 §2.1.1's first-install top). */
export const FUS_1_2_0_TOP_1MB = 0x080f_2000;

/** A footer version word of all ones: the FUS 1.2.0 files state no version. */
export function versionUnstated(image: ImageFooter): boolean {
  const v = image.version;
  return v.major === 0xff && v.minor === 0xff && v.sub === 0xff;
}

/** The top address the release notes (1 MB parts) install a file of this kind below. */
export function releaseNotesTop(image: ImageFooter): number {
  if (image.fusV2Only) return FUSV2_STACK_TOP_1MB;
  if (image.kind === "fus" && versionUnstated(image)) return FUS_1_2_0_TOP_1MB;
  return FUS_AREA_1MB;
}

/** The release notes' install address (1 MB parts): the top minus the whole file in sectors. */
export function releaseNotesAddress(image: ImageFooter, fileLength: number): number {
  return releaseNotesTop(image) - Math.ceil(fileLength / SECTOR_SIZE) * SECTOR_SIZE;
}

/** Flash page of an address on the STM32WB (4 KB pages from 0x08000000). */
export function pageOf(address: number): number {
  return (address - FLASH_BASE) / SECTOR_SIZE;
}
