import { expect, use } from "chai";
import { UsartClient } from "../../harness/clients/stm32-usart/index.js";
import {
  type Board,
  type BoardNeed,
  type ByteStream,
  flashChai,
  inspectIf,
  openUsartLink,
  profileForFamily,
  Random,
  type Stm32Inspect,
  type UsartQuirks,
} from "../../harness/index.js";

use(flashChai);

export const FLASH = 0x0800_0000;
export const USART: BoardNeed = { family: ["stm32l432", "stm32wb55"], capabilities: ["usart"] };

export function pageSize(board: Board): number {
  return profileForFamily(board.family).flash.pageSize;
}

/** White-box view of an emulated board (flash contents, cuts), or undefined on a lab board. */
export function stm32(board: Board): Stm32Inspect | undefined {
  return inspectIf(board, "stm32");
}

export interface Session {
  client: UsartClient;
  link: ByteStream;
}

/**
 * A client on the board's USART link, synced (fresh or already synced) and probed. The
 * caller closes the link (in a `finally`); one that fails to sync is closed here.
 */
export async function open(board: Board): Promise<Session> {
  const link = await openUsartLink(board);
  const client = new UsartClient(link, { clock: board.clock });
  try {
    await client.recover();
    await client.probe();
  } catch (e) {
    await link.close();
    throw e;
  }
  return { client, link };
}

/**
 * Factory memories (where the board's strategy restores them: an emulator), BOOT0 high,
 * powered into the ROM bootloader.
 */
export async function factoryReset(board: Board): Promise<void> {
  await board.strategy.factoryReset();
}

/**
 * Runs `work` with an emulated board's USART bootloader switched to another documented
 * personality (e.g. Erase 0x43 instead of 0x44), restoring it after. A lab part is what it
 * is: `work` runs on it unchanged.
 */
export async function withUsartPersonality<T>(
  board: Board,
  quirks: Partial<UsartQuirks>,
  work: () => Promise<T>,
): Promise<T> {
  const dev = stm32(board);
  return dev ? dev.withUsartQuirks(quirks, work) : work();
}

/** An application image: a valid vector table (SP in SRAM, Thumb reset handler) then seeded bytes. */
export function appImage(board: Board, length: number, label: string): Uint8Array {
  const r = new Random(board.seed).fork(label);
  const out = r.bytes(length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x2000_a000, true);
  view.setUint32(4, FLASH + 0x201, true);
  return out;
}

/** Erase the pages an image needs, write it, read it back: an update as a lab script does it. */
export async function update(board: Board, client: UsartClient, image: Uint8Array): Promise<void> {
  const pages = Math.ceil(image.length / pageSize(board));
  await client.erasePages(Array.from({ length: pages }, (_, i) => i));
  await client.write(FLASH, image);
  expect(await client.read(FLASH, image.length), "read back after write").to.equalBytes(image);
}

/** The error `p` rejects with; fails the test when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}
