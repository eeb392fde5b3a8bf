/**
 * OS management "bootloader information" (group 0, command 8, read), as Zephyr's
 * smp_group_0.rst documents it: a request without `query` is answered with the bootloader's
 * name (`{"bootloader": "MCUboot"}`); MCUboot answers the query "mode" with its mode of
 * operation and, only when true, `"no-downgrade": true`. Any other query has no answer
 * (v2 group error OS_MGMT_ERR_QUERY_YIELDS_NO_ANSWER).
 */
import { type SmpBody, SmpCborError } from "./cbor.js";

/** The name MCUboot gives when asked without a query. */
export const MCUBOOT_BOOTLOADER_NAME = "MCUboot";

/** The one query MCUboot answers. */
export const MODE_QUERY = "mode";

/**
 * MCUboot's "mode" numbers: -1 to 6 from Zephyr's smp_group_0.rst table; 7 to 9 continue
 * MCUboot's own enum (boot/bootutil/include/bootutil/boot_status.h), which newer bootloaders
 * may answer. The names are MCUboot's Kconfig spellings, as `--option mode=` takes them.
 */
export const McubootMode = {
  UNKNOWN: -1,
  SINGLE_APP: 0,
  SWAP_USING_SCRATCH: 1,
  OVERWRITE_ONLY: 2,
  SWAP_USING_MOVE: 3,
  DIRECT_XIP: 4,
  DIRECT_XIP_WITH_REVERT: 5,
  RAM_LOAD: 6,
  FIRMWARE_LOADER: 7,
  SINGLE_SLOT_RAM_LOAD: 8,
  SWAP_USING_OFFSET: 9,
} as const;

const MODE_NAMES: Readonly<Record<number, string>> = {
  [McubootMode.UNKNOWN]: "unknown",
  [McubootMode.SINGLE_APP]: "single-app",
  [McubootMode.SWAP_USING_SCRATCH]: "swap-using-scratch",
  [McubootMode.OVERWRITE_ONLY]: "overwrite-only",
  [McubootMode.SWAP_USING_MOVE]: "swap-using-move",
  [McubootMode.DIRECT_XIP]: "direct-xip",
  [McubootMode.DIRECT_XIP_WITH_REVERT]: "direct-xip-with-revert",
  [McubootMode.RAM_LOAD]: "ram-load",
  [McubootMode.FIRMWARE_LOADER]: "firmware-loader",
  [McubootMode.SINGLE_SLOT_RAM_LOAD]: "single-slot-ram-load",
  [McubootMode.SWAP_USING_OFFSET]: "swap-using-offset",
};

/** `swap-using-move` for 3; a number no table lists reads `mode 12`. */
export function mcubootModeName(mode: number): string {
  return MODE_NAMES[mode] ?? `mode ${mode}`;
}

/** The mode number of a name `mcubootModeName` gives, or undefined. */
export function mcubootModeOf(name: string): number | undefined {
  const found = Object.entries(MODE_NAMES).find(([, n]) => n === name);
  return found ? Number(found[0]) : undefined;
}

/** The request body: no query asks for the bootloader's name. */
export function bootloaderInfoRequest(query?: string): SmpBody {
  return query === undefined ? {} : { query };
}

/**
 * The name in a reply to a request without query.
 * @throws {SmpCborError} naming the field when the reply does not have the documented form.
 */
export function parseBootloaderName(body: SmpBody): string {
  const name = body.bootloader;
  if (typeof name !== "string")
    throw new SmpCborError(`bootloader info: "bootloader" should be a text string, got ${describe(name)}`);
  return name;
}

/** MCUboot's answer to the query "mode": its mode number and downgrade prevention. */
export interface McubootModeAnswer {
  mode: number;
  /** MCUboot refuses images older than the running one (sent only when true). */
  noDowngrade: boolean;
}

/**
 * MCUboot's answer to the query "mode".
 * @throws {SmpCborError} naming the field when the reply does not have the documented form.
 */
export function parseMcubootMode(body: SmpBody): McubootModeAnswer {
  const mode = body.mode;
  if (typeof mode !== "number" || !Number.isInteger(mode))
    throw new SmpCborError(`bootloader info: "mode" should be an integer, got ${describe(mode)}`);
  const noDowngrade = body["no-downgrade"];
  if (noDowngrade !== undefined && typeof noDowngrade !== "boolean")
    throw new SmpCborError(
      `bootloader info: "no-downgrade" should be a boolean, got ${describe(noDowngrade)}`,
    );
  return { mode, noDowngrade: noDowngrade === true };
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value instanceof Uint8Array) return `a ${value.length}-byte byte string`;
  return `${typeof value} ${JSON.stringify(value)}`;
}
