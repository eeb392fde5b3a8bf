import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { SmpClient } from "../../harness/clients/smp/index.js";
import { Nrf52840McubootDevice } from "../../harness/devices/nrf52840-mcuboot/device.js";
import { NRF52840_TIMING } from "../../harness/devices/nrf52840-mcuboot/profile.js";
import { trailerOf } from "../../harness/devices/nrf52840-mcuboot/slots.js";
import {
  isPrivate,
  type ParsedImage,
  type PrivateKey,
  parseImage,
  parsePemKey,
  parseVersion,
  signImage,
  type TrailerState,
} from "../../harness/protocol/mcuboot/index.js";
import type { Board } from "../../harness/rig/board.js";
import type { FlashSnapshot } from "../../harness/sim/flash.js";
import { Random } from "../../harness/sim/random.js";

const FIXTURES = join(import.meta.dirname, "..", "..", "fixtures", "mcuboot");

/** A test-only key from fixtures/mcuboot (the seed's private_key.pem / do_not_use_this_key.pem). */
export function fixtureKey(name: "test-only-ecdsa-p256" | "test-only-wrong-ecdsa-p256"): PrivateKey {
  const key = parsePemKey(readFileSync(join(FIXTURES, `${name}.pem`), "utf8"), name);
  if (!isPrivate(key)) throw new Error(`${name}.pem is not a private key`);
  return key;
}

export const CUSTOM_KEY = fixtureKey("test-only-ecdsa-p256");
export const WRONG_KEY = fixtureKey("test-only-wrong-ecdsa-p256");

/** An application image signed like `hil sign -k KEY --version V -H 0x200 -S 0x76000 --pad-header`. */
export function signedApp(board: Board, version: string, size: number, key = CUSTOM_KEY): Uint8Array {
  const r = new Random(board.seed).fork(`app ${version} ${size}`);
  const payload = Uint8Array.from({ length: size }, () => r.byte());
  return signImage(payload, {
    key,
    version: parseVersion(version),
    headerSize: 0x200,
    slotSize: 0x76000,
    padHeader: true,
  });
}

export const hashOf = (image: Uint8Array): Uint8Array => parseImage(image).hash!;
export const info = (image: Uint8Array): ParsedImage => parseImage(image);

/** The emulator behind an nrf52840 board (these suites check flash contents and trailers). */
export function nrf(board: Board): Nrf52840McubootDevice {
  const dev = board.emulator;
  expect(dev, `board ${board.id} is not an emulated nRF52840 + MCUboot`).to.be.instanceOf(
    Nrf52840McubootDevice,
  );
  return dev as Nrf52840McubootDevice;
}

let blank: FlashSnapshot | undefined;

/** Factory state: `v1` programmed into the primary slot over SWD, everything else erased; then power on. */
export async function factory(
  board: Board,
  v1: Uint8Array,
): Promise<{ dev: Nrf52840McubootDevice; client: SmpClient }> {
  const dev = nrf(board);
  await dev.power.off();
  blank ??= new Nrf52840McubootDevice({
    clock: dev.clock,
    seed: dev.seed,
    deviceOptions: { keys: [] },
  }).flash.snapshot();
  dev.flash.restore(blank);
  dev.program(dev.layout.primary.offset, v1);
  await dev.power.on();
  expect(dev.state, "factory image boots").to.equal("running");
  return { dev, client: new SmpClient(dev.host, board.clock) };
}

/** After an SMP reset: wait out the reset delay and the boot (swaps take seconds of device time). */
export async function rebooted(dev: Nrf52840McubootDevice): Promise<void> {
  await dev.clock.sleep(NRF52840_TIMING.smpResetDelayMs + 1);
  for (let i = 0; i < 1000 && dev.state === "bootloader"; i++) await dev.clock.sleep(100);
}

export function slotBytes(dev: Nrf52840McubootDevice, slot: 0 | 1, length: number): Uint8Array {
  return (slot === 0 ? dev.primary : dev.secondary).read(0, length);
}

export function trailers(dev: Nrf52840McubootDevice): { primary: TrailerState; secondary: TrailerState } {
  return { primary: trailerOf(dev.primary), secondary: trailerOf(dev.secondary) };
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
