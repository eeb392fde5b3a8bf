import {
  MCUBOOT_BOOTLOADER_NAME,
  McubootMode,
  MgmtErr,
  MODE_QUERY,
  OsCommand,
  OsMgmtErr,
  SmpGroup,
  SmpOp,
} from "../../protocol/smp/index.js";
import { SMP_SERVER_PARAMS, type SwapMode } from "./profile.js";
import { handlerKey, type SmpHandler } from "./smp-server.js";

/** What the app's OS group knows about the MCUboot it was built for (sysbuild passes it on). */
export interface OsMgmtBootloader {
  mode: SwapMode;
  /** CONFIG_MCUBOOT_BOOTLOADER_NO_DOWNGRADE: MCUboot was built with downgrade prevention. */
  noDowngrade: boolean;
  /**
   * CONFIG_MCUMGR_GRP_OS_BOOTLOADER_INFO: false for an app built without the command (or on
   * an older Zephyr), which then answers MGMT_ERR_ENOTSUP.
   */
  infoCommand: boolean;
}

/** The emulator's upgrade methods by MCUboot's mode number (smp_group_0.rst). */
const MODE_NUMBER: Readonly<Record<SwapMode, number>> = {
  move: McubootMode.SWAP_USING_MOVE,
  scratch: McubootMode.SWAP_USING_SCRATCH,
  "overwrite-only": McubootMode.OVERWRITE_ONLY,
};

/**
 * Zephyr's OS group as the app exposes it: echo, reset (answered before rebooting), mcumgr
 * params, and bootloader information.
 */
export function osHandlers(scheduleReset: () => void, bootloader: OsMgmtBootloader): Map<string, SmpHandler> {
  const g = SmpGroup.OS;
  const echo: SmpHandler = async (req) => {
    const d = req.body.d;
    if (typeof d !== "string") return { rc: MgmtErr.EINVAL };
    return { body: { r: d } };
  };
  const handlers = new Map<string, SmpHandler>([
    [handlerKey(g, OsCommand.ECHO, SmpOp.READ), echo],
    [handlerKey(g, OsCommand.ECHO, SmpOp.WRITE), echo],
    [
      handlerKey(g, OsCommand.RESET, SmpOp.WRITE),
      async () => {
        scheduleReset();
        return { body: {} };
      },
    ],
    [
      handlerKey(g, OsCommand.MCUMGR_PARAMS, SmpOp.READ),
      async () => ({ body: { buf_size: SMP_SERVER_PARAMS.bufSize, buf_count: SMP_SERVER_PARAMS.bufCount } }),
    ],
  ]);
  // Read only: a write of command 8 has no handler (ENOTSUP), as in Zephyr.
  if (bootloader.infoCommand)
    handlers.set(handlerKey(g, OsCommand.BOOTLOADER_INFO, SmpOp.READ), bootloaderInfo(bootloader));
  return handlers;
}

/**
 * Bootloader information: no query introduces MCUboot; "mode" answers the mode number and
 * `no-downgrade: true` only when set; any other query is OS_MGMT_ERR_QUERY_YIELDS_NO_ANSWER,
 * the v2 group error the document names. (Zephyr's os_mgmt.c returns that rc as a plain
 * handler rc, which reads as MGMT_ERR 3; the emulator follows the document.)
 */
function bootloaderInfo(bootloader: OsMgmtBootloader): SmpHandler {
  return async (req) => {
    const query = req.body.query;
    // zcbor_map_decode_bulk: a "query" that is not a text string fails the decode.
    if (query !== undefined && typeof query !== "string") return { rc: MgmtErr.EINVAL };
    // Keys other than "query" are ignored: without one, the bootloader introduces itself.
    if (query === undefined) return { body: { bootloader: MCUBOOT_BOOTLOADER_NAME } };
    if (query !== MODE_QUERY) return { groupRc: OsMgmtErr.QUERY_YIELDS_NO_ANSWER };
    return {
      body: {
        mode: MODE_NUMBER[bootloader.mode],
        ...(bootloader.noDowngrade ? { "no-downgrade": true } : {}),
      },
    };
  };
}
