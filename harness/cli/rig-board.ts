import type { Board } from "../rig/board.js";
import { loadRigFile, resolveRigPath } from "../rig/load.js";
import { buildRig } from "../rig/rig.js";
import { UsageError } from "./usage-error.js";

/**
 * The board `--board ID` of the rig `--rig FILE` (default rig otherwise), for the commands
 * that drive one board by hand. An emulated board is powered on, as a lab board on the rack
 * already is; a missing id lists the ids the rig has.
 */
export async function boardOfRig(
  command: string,
  rigFlag: string | undefined,
  boardId: string | undefined,
): Promise<Board> {
  if (!boardId) throw new UsageError(`${command}: expected --board ID (with --rig FILE)`);
  const path = resolveRigPath(rigFlag);
  const rig = buildRig(await loadRigFile(path), path);
  const board = rig.boards.find((b) => b.id === boardId);
  if (!board)
    throw new UsageError(
      `${command}: no board '${boardId}' in ${path} (boards: ${rig.boards.map((b) => b.id).join(", ")})`,
    );
  if (board.emulator) await board.power.on();
  return board;
}
