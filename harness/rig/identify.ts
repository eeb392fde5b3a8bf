/**
 * Identifying a board at its health check: ask the board itself who it is, through the same
 * host clients the suites use, and keep the answer (`bootloader 0x91, pid 0x435, serial
 * 2051354D5748`) for the check's output and for every result the run produces on the board,
 * so one bad unit on a rack is visible.
 *
 * One table, by family ({@link IDENTIFIERS}); each entry knows its protocol:
 * - stm32l432 / stm32wb55: USB DFU (bcdDevice, DfuSe functional descriptor, Get Commands,
 *   the ROM's USB serial, the bootloader ID byte) or USART (Get Version, Get ID, the ID byte);
 *   `fus` boards add the FUS and wireless-stack versions from the FUS device information table.
 * - tkey: NAME0/NAME1/VERSION (FW_CMD_NAME_VERSION) and the UDI.
 * - nrf52840 (MCUboot + SMP): image list (slot versions, which one runs), an echo, and the
 *   MCUboot mode from SMP bootloader information where the app has the command.
 * - sim-nor: a synthetic device with no protocol to ask; its emulator's identity is taken.
 *
 * A board that does not answer, or answers garbage, fails with an {@link InfrastructureError}:
 * the health check quarantines it for the run, the rest of the rack continues.
 */

import { InfrastructureError, SkipScenario } from "../lab/errors.js";
import type { Board, Family } from "./board.js";
import { identifyMcuboot, identifyTKey } from "./identify-serial.js";
import { identifyStm32 } from "./identify-stm32.js";

/** What a board said about itself, in reading order: `{ bootloader: "0x91", pid: "0x435" }`. */
export type Identity = Readonly<Record<string, string>>;

export type Identifier = (board: Board) => Promise<Identity>;

export const IDENTIFIERS: Readonly<Record<Family, Identifier>> = {
  stm32l432: identifyStm32,
  stm32wb55: identifyStm32,
  tkey: identifyTKey,
  nrf52840: identifyMcuboot,
  "sim-nor": identifySimNor,
};

async function identifySimNor(board: Board): Promise<Identity> {
  if (!board.emulator) throw new InfrastructureError(`board ${board.id}: sim-nor exists only as an emulator`);
  return { device: "synthetic NOR (no bootloader protocol)", serial: board.emulator.serial };
}

/**
 * Asks `board` who it is through its family's identifier.
 * @throws {InfrastructureError} naming the board and what went wrong (no answer, a garbled one).
 * @throws {SkipScenario} when the rig file gives no way to ask (the check shows it as not checked).
 */
export async function identifyBoard(board: Board, identifiers = IDENTIFIERS): Promise<Identity> {
  try {
    const identity = await identifiers[board.family](board);
    if (Object.keys(identity).length === 0)
      throw new InfrastructureError(`board ${board.id}: the ${board.family} identifier read nothing`);
    return identity;
  } catch (error) {
    if (error instanceof InfrastructureError || error instanceof SkipScenario) throw error;
    const e = error as Error;
    throw new InfrastructureError(
      `board ${board.id} (${board.family}) did not identify itself: ${e.name}: ${e.message}`,
      { cause: error },
    );
  }
}

/** `bootloader 0x91, pid 0x435, serial 2051354D5748`. */
export function formatIdentity(identity: Identity): string {
  return Object.entries(identity)
    .map(([key, value]) => `${key} ${value}`)
    .join(", ");
}

// ---------------------------------------------------------------------------------------
// From the health check at the start of `hil run` to the suites' results

/** The identities read by the run's health check, as `hil run` hands them to the suites: JSON `{ id: identity }`. */
export const IDENTITY_ENV = "HIL_BOARD_IDENTITY";

/** The identity the run's health check read from `boardId`, or undefined (not checked, or unreadable variable). */
export function identityFromEnv(boardId: string, env: NodeJS.ProcessEnv = process.env): Identity | undefined {
  const text = env[IDENTITY_ENV];
  if (!text) return undefined;
  try {
    const all = JSON.parse(text) as Record<string, unknown>;
    const one = all[boardId];
    if (typeof one !== "object" || one === null) return undefined;
    return Object.fromEntries(
      Object.entries(one).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
    );
  } catch {
    return undefined;
  }
}
