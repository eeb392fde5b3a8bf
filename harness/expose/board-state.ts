/**
 * `--state DIR`: the memories of an emulated board as plain files, so a board that showed a
 * bug can be saved and served again. Each device kind names its files (raw, as the memory
 * reads them); missing files leave the factory contents, a file of the wrong size is an
 * error naming it.
 * - STM32: flash.bin, otp.bin, option-bytes.bin
 * - nRF52840 + MCUboot: flash.bin (the whole 1 MB: MCUboot, both slots with their
 *   trailers, scratch, storage), so an interrupted swap resumes at the next boot
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { EmulatedDevice } from "../devices/emulated-device.js";
import { Nrf52840McubootDevice } from "../devices/nrf52840-mcuboot/device.js";
import { Stm32Device } from "../devices/stm32/device.js";
import type { Flash } from "../sim/flash.js";

/** One memory of a device as one file of the state directory. */
interface StateFile {
  readonly name: string;
  readonly size: number;
  read(): Uint8Array;
  write(bytes: Uint8Array): void;
}

function flashFile(name: string, flash: Flash): StateFile {
  return {
    name,
    size: flash.size,
    read: () => flash.peek(flash.base, flash.size),
    write: (bytes) => flash.load(flash.base, bytes),
  };
}

/** The files of each kind of device, in load order. */
const STATE_FILES: readonly ((device: EmulatedDevice) => StateFile[] | undefined)[] = [
  (device) => {
    if (!(device instanceof Stm32Device)) return undefined;
    const chip = device.chip;
    return [
      flashFile("flash.bin", chip.flash),
      flashFile("otp.bin", chip.otp),
      {
        name: "option-bytes.bin",
        size: chip.optionBytes.size,
        read: () => chip.optionBytes.raw,
        write: (bytes) => {
          chip.optionBytes.store(bytes);
          chip.optionBytes.reload();
        },
      },
    ];
  },
  (device) => (device instanceof Nrf52840McubootDevice ? [flashFile("flash.bin", device.flash)] : undefined),
];

function stateFilesOf(device: EmulatedDevice): StateFile[] {
  for (const files of STATE_FILES) {
    const found = files(device);
    if (found) return found;
  }
  throw new Error(`--state: the emulated ${device.family} has no saved-state format`);
}

/** Loads what DIR holds into the (powered-off) device; returns the names loaded. */
export async function loadBoardState(device: EmulatedDevice, dir: string): Promise<string[]> {
  const loaded: string[] = [];
  for (const file of stateFilesOf(device)) {
    const path = join(dir, file.name);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw e;
    }
    if (bytes.length !== file.size)
      throw new Error(`${path}: expected ${file.size} bytes, got ${bytes.length}`);
    file.write(new Uint8Array(bytes));
    loaded.push(file.name);
  }
  return loaded;
}

export async function saveBoardState(device: EmulatedDevice, dir: string): Promise<void> {
  const files = stateFilesOf(device);
  await mkdir(dir, { recursive: true });
  for (const file of files) await writeFile(join(dir, file.name), file.read());
}
