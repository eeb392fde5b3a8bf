import {
  DfuFusLink,
  FusClient,
  type FusClientOptions,
  UsartFusLink,
} from "../../harness/clients/fus/index.js";
import {
  type Board,
  type BoardNeed,
  type Capability,
  inspectIf,
  openUsartLink,
  type Stm32Inspect,
  skipWithReason,
  usbBusOf,
  usbFilterOf,
} from "../../harness/index.js";

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
  if (!board.strategy.restores.includes("fus") && !board.capabilities.has("sacrificial"))
    await skipWith(ctx, board, `${what} changes a lab board for good; the rig does not mark it sacrificial`);
}

/** White-box view of an emulated WB55 (flash contents, CPU2), or undefined on a lab board. */
export function wb55(board: Board): Stm32Inspect | undefined {
  return inspectIf(board, "stm32");
}

/**
 * The white-box view, for tests whose BoardNeed asks for `inspect` (a lab board is then
 * skipped with the reason before the test runs).
 */
export function inspected(board: Board): Stm32Inspect {
  const view = wb55(board);
  if (!view) throw new Error(`board ${board.id} was selected without the inspect capability`);
  return view;
}

/**
 * The board's strategy: emulated boards get blank user flash, factory option bytes and FUS
 * (a stack installed and running, or none), BOOT0 high, powered into the ROM. Lab boards:
 * bootloader + power cycle (their FUS state is whatever it is; suites bring it to a known
 * one through FUS itself).
 */
export async function factoryReset(board: Board, opts: { stack?: boolean } = {}): Promise<void> {
  await board.strategy.factoryReset(opts);
}

/**
 * Whether {@link factoryReset} leaves the board in the documented factory state (user flash
 * blank, FUS with the stack running): where the board's strategy restores flash and FUS (an
 * emulator). A lab board's state after it is whatever the board held.
 */
export function factoryKnown(board: Board): boolean {
  return board.strategy.restores.includes("fus") && board.strategy.restores.includes("flash");
}

/**
 * Skip the running test unless the board starts from the factory FUS state (user flash blank,
 * no authentication key, the stack installed and running) and its FUS takes the fixtures'
 * images: what an emulator's strategy gives. A lab WB55 holds what earlier runs left (its
 * stack or none, an authentication key), and a real one refuses images signed with the
 * emulator's test key (fixtures/fus) as IMG_NOT_AUTHENTIC, which would read as a firmware
 * failure.
 */
export async function requireFactoryFus(ctx: Mocha.Context, board: Board, what: string): Promise<void> {
  if (!factoryKnown(board))
    await skipWith(
      ctx,
      board,
      `${what} needs the factory FUS state and images its FUS accepts; a lab board's FUS holds what earlier runs left, and a real WB55 refuses the emulator-signed fixture images`,
    );
}

/**
 * Skip the running test unless the wireless stack runs now (device information table: last
 * FUS active state 0x04), which a test of FUS activation starts from. On an emulated board
 * after {@link factoryReset} it always does; a lab board's may be deleted or stopped.
 * A skipped test ends here, so the client's link is closed first.
 */
export async function requireStackRunning(
  ctx: Mocha.Context,
  board: Board,
  client: FusClient,
): Promise<void> {
  const info = await client.readDeviceInfo();
  if (info.lastFusActiveState !== 0x04) {
    await client.link.close();
    await skipWith(
      ctx,
      board,
      `needs the wireless stack running; ${info.stackInstalled ? "the installed stack is not running" : "no stack is installed"} (device information table, last FUS active state 0x${info.lastFusActiveState.toString(16).padStart(2, "0")})`,
    );
  }
}

/** A FusClient on the board's `transport` (emulated bus or the host's USB; the rig's serial link). */
export async function openFus(
  board: Board,
  transport: Transport,
  opts: FusClientOptions = {},
): Promise<FusClient> {
  if (transport === "usb-dfu") {
    const bus = usbBusOf(board);
    const filter = usbFilterOf(board, ROM_USB);
    return new FusClient(
      await DfuFusLink.open(bus, filter, { clock: board.clock, timeouts: { enumerateMs: 5000 } }),
      opts,
    );
  }
  return new FusClient(new UsartFusLink(await openUsartLink(board), board.clock), opts);
}

/** SFSA/SBRV as the option bytes hold them now (read through the bootloader). */
export async function boundaries(client: FusClient): Promise<{ sfsa: number; sbrv: number }> {
  return client.readSecureBoundaries();
}
