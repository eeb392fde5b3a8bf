/**
 * Identifiers of boards that are a serial port to the host: a TKey (its firmware's
 * NAME0/NAME1/VERSION and UDI) and an nRF52840 running MCUboot with an SMP server (echo, the
 * image list, then bootloader information). Part of the table in identify.ts.
 */
import {
  type BootloaderInfo,
  hashHex,
  type ImageSlotState,
  type SmpClient,
  SmpError,
} from "../clients/smp/index.js";
import { TKeyClient } from "../clients/tkey/index.js";
import { InfrastructureError } from "../lab/errors.js";
import { MCUBOOT_BOOTLOADER_NAME, MgmtErr } from "../protocol/smp/index.js";
import type { Board } from "./board.js";
import type { Identity } from "./identify.js";
import { SmpLink } from "./smp-link.js";
import { openTKeyLink } from "./tkey-link.js";

/** A reply should come within the board's command time, but never wait less than this. */
const MIN_REPLY_MS = 1000;

function replyMs(board: Board): number {
  return Math.max(MIN_REPLY_MS, Math.min(board.timeouts?.commandMs ?? 2000, 5000));
}

/**
 * TKey: FW_CMD_NAME_VERSION (`tk1 mkdf`, version) and FW_CMD_GET_UDI. A running app answers
 * NOK, and only a replug brings the firmware back: the board is power-cycled once where
 * its backend can, then asked again.
 */
export async function identifyTKey(board: Board): Promise<Identity> {
  const ask = async () => {
    const stream = await openTKeyLink(board);
    try {
      const client = new TKeyClient(stream, {
        clock: board.clock,
        timeouts: { probeMs: replyMs(board), commandMs: replyMs(board) },
      });
      const probe = await client.probe();
      if (probe.mode === "app") return undefined;
      const udi = await client.getUdi();
      const nv = probe.nameVersion;
      return {
        name: `${nv.name0}${nv.name1}`.trim(),
        firmware: String(nv.version),
        udi: `${hex(udi.vendorId, 4)}:${hex(udi.productId, 2)}:${hex(udi.revision, 2)}:${hex(udi.serial, 8)}`,
      };
    } finally {
      await stream.close();
    }
  };
  const first = await ask();
  if (first) return first;
  if (board.power.backend === "manual")
    throw new InfrastructureError(
      `board ${board.id}: an app is running (firmware answers NOK); replug it to identify the firmware`,
    );
  await board.power.cycle();
  const second = await ask();
  if (!second)
    throw new InfrastructureError(
      `board ${board.id}: still an app after a power cycle, not the TKey firmware`,
    );
  return second;
}

/**
 * MCUboot + SMP: an echo (a garbled link fails here, plainly), then the image list:
 * `image 1.0.0, slots #0 1.0.0 active confirmed; #1 1.1.0 pending, hash 731f6a61...`,
 * then the bootloader information: `mcuboot mode swap-using-move` (and `no-downgrade yes`)
 * where the app has the command; one without it (MGMT_ERR_ENOTSUP) is identified without.
 */
export async function identifyMcuboot(board: Board): Promise<Identity> {
  const link = await SmpLink.open(board, { client: { timeoutMs: replyMs(board), retries: 1 } });
  try {
    const client = link.client;
    const word = `hil-${board.id}`;
    const echoed = await client.echo(word);
    if (echoed !== word)
      throw new InfrastructureError(`board ${board.id}: SMP echo of '${word}' came back as '${echoed}'`);
    const slots = await client.list();
    const active = slots.find((s) => s.active) ?? slots.find((s) => s.slot === 0);
    if (!active) throw new InfrastructureError(`board ${board.id}: SMP image list is empty`);
    const identity: Record<string, string> = {
      image: active.version,
      slots: slots.map(describeSlot).join("; "),
    };
    if (active.hash) identity.hash = hashHex(active.hash).slice(0, 16);
    Object.assign(identity, await bootloaderIdentity(client));
    return identity;
  } finally {
    await link.close();
  }
}

/** `mcuboot mode` (and `no-downgrade`) from the bootloader information; nothing when the app lacks the command. */
async function bootloaderIdentity(client: SmpClient): Promise<Record<string, string>> {
  let info: BootloaderInfo;
  try {
    info = await client.bootloaderInfo();
  } catch (e) {
    if (e instanceof SmpError && e.group === undefined && e.rc === MgmtErr.ENOTSUP) return {};
    throw e;
  }
  const out: Record<string, string> = {};
  if (info.name !== MCUBOOT_BOOTLOADER_NAME) out.bootloader = info.name;
  if (info.modeName !== undefined) out["mcuboot mode"] = info.modeName;
  if (info.noDowngrade) out["no-downgrade"] = "yes";
  return out;
}

function describeSlot(s: ImageSlotState): string {
  const flags = (["active", "confirmed", "pending", "permanent"] as const).filter((f) => s[f]);
  return [`#${s.slot} ${s.version}`, ...flags].join(" ");
}

function hex(value: number, digits: number): string {
  return value.toString(16).padStart(digits, "0");
}
