/**
 * `hil fus state|start|info|upgrade FILE|delete|start-ws|auth-key FILE|lock-auth-key`: drive
 * STM32WB FUS (AN5185) on one board of a rig through its ROM bootloader, over USB DFU
 * (default) or USART. Prints the state trace (device time, states, resets) at the end and on
 * failure. Locking the authentication key is irreversible: the rig's interlock
 * (harness/lab/interlock.ts) refuses it unless the board is marked sacrificial AND
 * --allow-irreversible (or HIL_ALLOW_IRREVERSIBLE=1) is given; emulated boards always may.
 */

import { readFile } from "node:fs/promises";
import { DfuFusLink, FusClient, FusClientError, traceLabel, UsartFusLink } from "../clients/fus/index.js";
import { emulatedUsbBus } from "../devices/stm32/dfu/index.js";
import { ALLOW_IRREVERSIBLE_ENV, IrreversibleOperationRefused, irreversibleGuard } from "../lab/interlock.js";
import { formatVersion, fusErrorName, fusStateName } from "../protocol/fus/index.js";
import type { Board } from "../rig/board.js";
import { openUsartLink } from "../rig/usart-link.js";
import { labUsbBus } from "../rig/usb-link.js";
import { printClientFailure } from "./client-failure.js";
import { boardOfRig } from "./rig-board.js";
import { UsageError } from "./usage-error.js";

export const FUS_OPTIONS = {
  rig: { type: "string" },
  board: { type: "string" },
  transport: { type: "string" },
  address: { type: "string" },
  "allow-irreversible": { type: "boolean" },
} as const;

export interface FusOptions {
  rig?: string | undefined;
  board?: string | undefined;
  transport?: string | undefined;
  address?: string | undefined;
  "allow-irreversible"?: boolean | undefined;
}

const ACTIONS = ["state", "start", "info", "upgrade", "delete", "start-ws", "auth-key", "lock-auth-key"];

export async function runFus(opts: FusOptions, positionals: string[]): Promise<number> {
  const [action, file] = positionals;
  if (!action || !ACTIONS.includes(action)) throw new UsageError(`fus: expected ${ACTIONS.join("|")}`);
  const transport = opts.transport ?? "usb-dfu";
  if (transport !== "usb-dfu" && transport !== "usart")
    throw new UsageError("fus: --transport is usb-dfu or usart");
  if ((action === "upgrade" || action === "auth-key") && !file)
    throw new UsageError(`fus ${action}: expected FILE`);
  const address = opts.address !== undefined ? Number(opts.address) : undefined;
  if (address !== undefined && !Number.isInteger(address)) throw new UsageError("fus: --address is a number");
  const bytes = file ? new Uint8Array(await readFile(file)) : undefined;
  const board = await boardOfRig("fus", opts.rig, opts.board);
  const client = await open(board, transport);
  const t0 = board.clock.now();
  try {
    switch (action) {
      case "state": {
        const s = await client.getState();
        console.log(
          s ? `${s.stateName ?? "?"} (0x${s.state.toString(16)}), error ${s.errorName}` : "no answer",
        );
        break;
      }
      case "start":
        await client.startFus();
        break;
      case "info": {
        const i = await client.readDeviceInfo();
        console.log(`FUS ${formatVersion(i.fusVersion)}, safe boot ${formatVersion(i.safeBootVersion)}`);
        console.log(
          i.stackInstalled
            ? `wireless stack ${formatVersion(i.wirelessStackVersion)} type 0x${i.wirelessStackType.toString(16)}`
            : "no wireless stack",
        );
        console.log(`last FUS active state 0x${i.lastFusActiveState.toString(16)}`);
        const b = await client.readSecureBoundaries();
        console.log(
          `SFSA 0x${b.sfsa.toString(16)} (0x${(0x0800_0000 + b.sfsa * 4096).toString(16)}), SBRV 0x${b.sbrv.toString(16)}`,
        );
        break;
      }
      case "upgrade": {
        const r = await client.fwUpgrade(bytes!, address !== undefined ? { address } : {});
        console.log(`staged at 0x${r.address.toString(16)}; done`);
        break;
      }
      case "delete":
        await client.fwDelete();
        break;
      case "start-ws":
        await client.startWirelessStack();
        break;
      case "auth-key":
        await client.updateAuthKey(bytes!.length === 65 ? bytes!.subarray(1) : bytes!);
        break;
      case "lock-auth-key":
        // The rig's interlock decides: a sacrificial lab board and --allow-irreversible.
        await client.lockAuthKey({
          guard: irreversibleGuard(
            board,
            opts["allow-irreversible"] ? { ...process.env, [ALLOW_IRREVERSIBLE_ENV]: "1" } : process.env,
          ),
        });
        break;
    }
    printTrace(client, t0);
    return 0;
  } catch (e) {
    printTrace(client, t0);
    if (e instanceof FusClientError && printClientFailure("hil fus", e)) return 1;
    if (e instanceof IrreversibleOperationRefused) {
      console.error(`hil fus: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    await client.close();
  }
}

async function open(board: Board, transport: "usb-dfu" | "usart"): Promise<FusClient> {
  if (transport === "usb-dfu") {
    const bus = board.emulator ? emulatedUsbBus(board.emulator) : labUsbBus(board);
    const filter = {
      vendorId: 0x0483,
      productId: 0xdf11,
      ...(board.serial ? { serialNumber: board.serial } : {}),
    };
    const link = await DfuFusLink.open(bus, filter, { clock: board.clock });
    return FusClient.open(link, { clock: board.clock });
  }
  return FusClient.open(new UsartFusLink(await openUsartLink(board), board.clock), { clock: board.clock });
}

function printTrace(client: FusClient, t0: number): void {
  for (const e of client.trace) {
    const extra =
      e.kind === "state"
        ? ` (state 0x${e.state.toString(16)} ${fusStateName(e.state) ?? "?"}, ${fusErrorName(e.error)})`
        : "";
    console.log(`${((e.t - t0) / 1000).toFixed(3).padStart(9)} s  ${traceLabel(e)}${extra}`);
  }
}
