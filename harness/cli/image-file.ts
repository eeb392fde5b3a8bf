/**
 * A firmware image named on the command line, read and checked before any link is opened:
 * `.bin` at an address, `.hex` and `.dfu` with their own addresses (harness/protocol/dfu's
 * loadImage). Unreadable or malformed files are usage errors naming the file and the field
 * or byte, so nothing is flashed from a file the tool could not read right.
 */
import { readFile } from "node:fs/promises";
import { type FirmwareImage, ImageFileError, loadImage } from "../protocol/dfu/index.js";
import { UsageError } from "./usage-error.js";

export async function readImageFile(
  command: string,
  file: string,
  address: number | undefined,
): Promise<FirmwareImage> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new UsageError(`${command}: cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return loadImage(file, bytes, address === undefined ? {} : { address });
  } catch (e) {
    if (e instanceof ImageFileError) throw new UsageError(e.message);
    throw e;
  }
}
