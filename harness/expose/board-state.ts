/**
 * `--state DIR`: the memories of an emulated STM32 as plain files, so a board that showed a
 * bug can be saved and served again: flash.bin, otp.bin, option-bytes.bin (raw, as the
 * memory reads them). Missing files leave the factory contents.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Stm32Device } from "../devices/stm32/device.js";

export async function loadBoardState(device: Stm32Device, dir: string): Promise<string[]> {
  const chip = device.chip;
  const loaded: string[] = [];
  const read = async (name: string, size: number) => {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dir, name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
    if (bytes.length !== size)
      throw new Error(`${join(dir, name)}: expected ${size} bytes, got ${bytes.length}`);
    loaded.push(name);
    return new Uint8Array(bytes);
  };
  const flash = await read("flash.bin", chip.flash.size);
  if (flash) chip.flash.load(chip.flash.base, flash);
  const otp = await read("otp.bin", chip.otp.size);
  if (otp) chip.otp.load(chip.otp.base, otp);
  const ob = await read("option-bytes.bin", chip.optionBytes.size);
  if (ob) {
    chip.optionBytes.store(ob);
    chip.optionBytes.reload();
  }
  return loaded;
}

export async function saveBoardState(device: Stm32Device, dir: string): Promise<void> {
  const chip = device.chip;
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "flash.bin"), chip.flash.peek(chip.flash.base, chip.flash.size));
  await writeFile(join(dir, "otp.bin"), chip.otp.peek(chip.otp.base, chip.otp.size));
  await writeFile(join(dir, "option-bytes.bin"), chip.optionBytes.raw);
}
