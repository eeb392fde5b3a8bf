import { MgmtErr, OsCommand, SmpGroup, SmpOp } from "../../protocol/smp/index.js";
import { SMP_SERVER_PARAMS } from "./profile.js";
import { handlerKey, type SmpHandler } from "./smp-server.js";

/** Zephyr's OS group as the app exposes it: echo, reset (answered before rebooting), mcumgr params. */
export function osHandlers(scheduleReset: () => void): Map<string, SmpHandler> {
  const g = SmpGroup.OS;
  const echo: SmpHandler = async (req) => {
    const d = req.body.d;
    if (typeof d !== "string") return { rc: MgmtErr.EINVAL };
    return { body: { r: d } };
  };
  return new Map<string, SmpHandler>([
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
}
