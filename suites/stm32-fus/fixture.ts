import { expect } from "chai";
import {
  DfuFusLink,
  FusClient,
  type FusClientOptions,
  UsartFusLink,
} from "../../harness/clients/fus/index.js";
import { Stm32Chip } from "../../harness/devices/stm32/chip.js";
import { Stm32Device } from "../../harness/devices/stm32/device.js";
import { emulatedUsbBus } from "../../harness/devices/stm32/dfu/index.js";
import { factoryNv } from "../../harness/devices/stm32/fus/cpu2.js";
import { OB } from "../../harness/devices/stm32/option-bytes.js";
import { skipWithReason } from "../../harness/report/skip.js";
import type { Board, Capability } from "../../harness/rig/board.js";
import { usbFilterOf } from "../../harness/rig/locate.js";
import type { BoardNeed } from "../../harness/rig/select.js";
import { openUsartLink } from "../../harness/rig/usart-link.js";
import { WebUsbBus } from "../../harness/transport/usb.js";

export type Transport = "usb-dfu" | "usart";
export const TRANSPORTS: readonly Transport[] = ["usb-dfu", "usart"];
export const ROM_USB = { vendorId: 0x0483, productId: 0xdf11 };

export function need(transport: Transport, ...more: Capability[]): BoardNeed {
  return { family: ["stm32wb55"], capabilities: ["fus", transport, ...more] };
}

/** Any WB55 with FUS, whatever interfaces it offers (tests skip, with the reason, where one is missing). */
export function needFus(...more: Capability[]): BoardNeed {
  return { family: ["stm32wb55"], capabilities: ["fus", ...more] };
}

/** Skip the running test, the reason recorded in the report (Allure description). */
export async function skipWith(ctx: Mocha.Context, board: Board, reason: string): Promise<never> {
  return skipWithReason(ctx, `${board.id}: ${reason}`);
}

/** Skip the running test unless the rig says `board` offers `transport`. */
export async function requireTransport(
  ctx: Mocha.Context,
  board: Board,
  transport: Transport,
): Promise<void> {
  if (!board.capabilities.has(transport))
    await skipWith(
      ctx,
      board,
      `the rig gives it no ${transport} interface (capabilities: ${[...board.capabilities].join(", ")})`,
    );
}

/**
 * Skip the running test on a lab board the rig does not mark sacrificial: for FUS operations
 * that leave it changed (the wireless stack deleted, user-key slots used), reversible only
 * with images the suites do not carry.
 */
export async function requireExpendable(ctx: Mocha.Context, board: Board, what: string): Promise<void> {
  if (!board.emulator && !board.capabilities.has("sacrificial"))
    await skipWith(ctx, board, `${what} changes a lab board for good; the rig does not mark it sacrificial`);
}

export function wb55(board: Board): Stm32Device | undefined {
  return board.emulator instanceof Stm32Device ? board.emulator : undefined;
}

/** The emulator, for checks only an emulator allows (flash contents, CPU2 mode). */
export function emulated(board: Board): Stm32Device {
  const dev = wb55(board);
  expect(dev, `board ${board.id} is not an emulated STM32WB`).to.be.instanceOf(Stm32Device);
  return dev!;
}

/**
 * Emulated boards: blank user flash, factory option bytes and FUS (a stack installed and
 * running, or none), BOOT0 high, powered into the ROM. Lab boards: bootloader + power cycle
 * (their FUS state is whatever it is; suites bring it to a known one through FUS itself).
 */
export async function factoryReset(board: Board, opts: { stack?: boolean } = {}): Promise<void> {
  const dev = wb55(board);
  if (!dev) {
    await board.boot?.bootloader();
    await board.power.cycle();
    return;
  }
  await dev.power.off();
  const blank = new Stm32Chip(dev.profile, dev.seed);
  dev.chip.flash.restore(blank.flash.snapshot());
  dev.chip.optionBytes.store(blank.optionBytes.raw);
  const withStack = opts.stack ?? true;
  if (!withStack) {
    dev.chip.optionBytes.setWord(OB.SFSA, (dev.chip.optionBytes.storedWord(OB.SFSA) & ~0xff) | 0xf4);
    dev.chip.optionBytes.setWord(OB.SBRV, 0x3d800);
  }
  dev.fus!.nv = factoryNv(withStack, dev.chip.optionBytes.storedWord(OB.SFSA) & 0xff);
  dev.boot0 = true;
  await dev.power.on();
}

/** A FusClient on the board's `transport` (emulated bus or the host's USB; the rig's serial link). */
export async function openFus(
  board: Board,
  transport: Transport,
  opts: FusClientOptions = {},
): Promise<FusClient> {
  if (transport === "usb-dfu") {
    const bus = board.emulator ? emulatedUsbBus(board.emulator) : new WebUsbBus({ clock: board.clock });
    const filter = usbFilterOf(board, ROM_USB);
    return new FusClient(
      await DfuFusLink.connect(bus, filter, { clock: board.clock, enumerateTimeoutMs: 5000 }),
      opts,
    );
  }
  return new FusClient(new UsartFusLink(await openUsartLink(board), board.clock), opts);
}

/** SFSA/SBRV as the option bytes hold them now (read through the bootloader). */
export async function boundaries(client: FusClient): Promise<{ sfsa: number; sbrv: number }> {
  return client.readSecureBoundaries();
}
