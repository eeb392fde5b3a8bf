import { TKeyClient } from "../../harness/clients/tkey/index.js";
import {
  type Board,
  inspectIf,
  openTKeyLink,
  Random,
  requireInspect,
  type TKeyInspect,
} from "../../harness/index.js";
import { APP_MAX_SIZE } from "../../harness/protocol/tkey/index.js";

/** Clause names, as the qualification matrix lists them. */
export const CLAUSES = {
  nameVersion: "TKey firmware protocol: FW_CMD_NAME_VERSION / FW_RSP_NAME_VERSION",
  getUdi: "TKey firmware protocol: FW_CMD_GET_UDI / FW_RSP_GET_UDI",
  loadApp: "TKey firmware protocol: Load an application",
  loadAppBad:
    "TKey firmware protocol: FW_RSP_LOAD_APP status (size 0 or over TK1_APP_MAX_SIZE is STATUS_BAD)",
  digest: "TKey firmware protocol: FW_RSP_LOAD_APP_DATA_READY digest = BLAKE2s(app)",
  probe: "TKey firmware protocol: firmware probe, app replies NOK on endpoint 2",
  cdi: "TKey firmware: CDI = BLAKE2s(UDS, digest, USS) (Bellatrix) / keyed by UDS (Castor)",
  halt: "TKey firmware: FAIL halts the CPU, no reply until power-cycled",
  power: "TKey firmware: every power-on starts the firmware (RAM app lost)",
} as const;

/** White-box view of an emulated TKey, or undefined on a lab board. */
export function emulatedTKey(board: Board): TKeyInspect | undefined {
  return inspectIf(board, "tkey");
}

/** The app size limit this board's firmware enforces. */
export function appMaxSize(board: Board): number {
  return emulatedTKey(board)?.profile.appMaxSize ?? APP_MAX_SIZE;
}

/**
 * A client on the board's serial port as it is now (re-resolved after every replug).
 * @throws {InfrastructureError} on a lab board whose port does not appear within its enumeration timeout.
 */
export async function connect(
  board: Board,
  timeouts?: { probeMs?: number; commandMs?: number },
): Promise<TKeyClient> {
  // Emulated: a fresh line to the firmware; lab: the CDC port found by identity, re-resolved now.
  return new TKeyClient(await openTKeyLink(board), { clock: board.clock, timeouts });
}

/** Unplug and replug (the board's strategy): the TKey starts in firmware mode, whatever it was doing. */
export async function replug(board: Board): Promise<TKeyClient> {
  await board.strategy.transition("firmware");
  return await connect(board);
}

/**
 * Closes a test's client, if it opened one; for a test's `finally`, so a failing test leaves
 * no port open either (opening a client closes the one before, so the last is the one left).
 * A port the TKey took with it is already gone: its close error must not hide the test's.
 */
export async function closeClient(client: TKeyClient | undefined): Promise<void> {
  await client?.close().catch(() => undefined);
}

/** A raw app binary of `size` bytes, fixed by the board's seed and the size. */
export function appOf(board: Board, size: number): Uint8Array {
  const r = new Random(board.seed).fork(`tkey app ${size}`);
  return r.bytes(size);
}

/**
 * The white-box view of the board, or skip the test with `reason` (recorded in the report)
 * on a lab board, where the scenario needs a hook only an emulator has.
 */
export async function emulatorOrSkip(ctx: Mocha.Context, board: Board, reason: string): Promise<TKeyInspect> {
  return requireInspect(ctx, board, "tkey", reason);
}
