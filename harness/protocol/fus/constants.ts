/**
 * STM32WB firmware upgrade services (FUS), the values AN5185 Rev 1 defines (Tables 4, 9–11,
 * 14–19) plus the later error codes the fact sheet (reference/stm32-bootloader-dfu-fus.md
 * §5.2) lists from shci.h. Pure tables, no I/O.
 */

/** AN5185 Table 10: state values; a range means every value inside it has the same meaning. */
export const FusState = {
  IDLE: 0x00,
  FW_UPGRD_ONGOING: 0x10,
  FUS_UPGRD_ONGOING: 0x20,
  SERVICE_ONGOING: 0x30,
  ERROR: 0xff,
} as const;

export type FusStateName = "IDLE" | "FW_UPGRD_ONGOING" | "FUS_UPGRD_ONGOING" | "SERVICE_ONGOING" | "ERROR";

/** Decode a state byte by its Table 10 range; undefined for "not used" values (0x01–0x0F, 0x40–0xFE). */
export function fusStateName(value: number): FusStateName | undefined {
  if (value === 0x00) return "IDLE";
  if (value >= 0x10 && value <= 0x1f) return "FW_UPGRD_ONGOING";
  if (value >= 0x20 && value <= 0x2f) return "FUS_UPGRD_ONGOING";
  if (value >= 0x30 && value <= 0x3f) return "SERVICE_ONGOING";
  if (value === 0xff) return "ERROR";
  return undefined;
}

/** True for the three "operation ongoing" ranges (hosts keep polling). */
export function isOngoing(value: number): boolean {
  return value >= 0x10 && value <= 0x3f;
}

/** AN5185 Table 11 (0x00–0x04, 0xFE, 0xFF) and the later codes of shci.h (fact sheet §5.2). */
export const FusError = {
  NO_ERROR: 0x00,
  IMG_NOT_FOUND: 0x01,
  IMG_CORRUPT: 0x02,
  IMG_NOT_AUTHENTIC: 0x03,
  IMG_NOT_ENOUGH_SPACE: 0x04,
  IMAGE_USRABORT: 0x05,
  IMAGE_ERSERROR: 0x06,
  IMAGE_WRTERROR: 0x07,
  AUTH_TAG_ST_NOTFOUND: 0x08,
  AUTH_TAG_CUST_NOTFOUND: 0x09,
  AUTH_KEY_LOCKED: 0x0a,
  FW_ROLLBACK_ERROR: 0x11,
  NOT_RUNNING: 0xfe,
  ERR_UNKNOWN: 0xff,
} as const;
export type FusErrorName = keyof typeof FusError;

export function fusErrorName(value: number): FusErrorName | `0x${string}` {
  const hit = (Object.keys(FusError) as FusErrorName[]).find((k) => FusError[k] === value);
  return hit ?? `0x${value.toString(16).padStart(2, "0")}`;
}

/** A decoded FUS_GET_STATE answer. `running: false` = (ERROR, NOT_RUNNING): the wireless stack answered. */
export interface FusStatus {
  state: number;
  error: number;
  stateName: FusStateName | undefined;
  errorName: string;
}

export function decodeFusStatus(state: number, error: number): FusStatus {
  return { state, error, stateName: fusStateName(state), errorName: fusErrorName(error) };
}

/** (ERROR, NOT_RUNNING): "wireless stack is running, FUS not active" (Table 1, Table 11). */
export function isNotRunning(s: { state: number; error: number }): boolean {
  return s.state === FusState.ERROR && s.error === FusError.NOT_RUNNING;
}

/**
 * FUS command opcodes as the ROM bootloader maps them (AN5185 Tables 16–19). They are the
 * low byte of the HCI opcode for most commands, but GET_STATE is 0x54 and DELETE/UPGRADE
 * are 0x52/0x53 on the bootloader, unlike the HCI opcodes 0xFC52/0xFC54/0xFC55 (Table 8).
 */
export const FusBootloaderOpcode = {
  GET_STATE: 0x54,
  FW_DELETE: 0x52,
  FW_UPGRADE: 0x53,
  UPDATE_AUTH_KEY: 0x56,
  LOCK_AUTH_KEY: 0x57,
  STORE_USR_KEY: 0x58,
  LOAD_USR_KEY: 0x59,
  START_WS: 0x5a,
} as const;
export type FusBootloaderOpcodeName = keyof typeof FusBootloaderOpcode;

/** Commands of the USART special write 0x51 (Table 17); GET_STATE is the only special read 0x50 (Table 16). */
export const USART_WRITE_OPCODES: ReadonlySet<number> = new Set([0x52, 0x53, 0x56, 0x57, 0x58, 0x59, 0x5a]);
export const USART_READ_OPCODES: ReadonlySet<number> = new Set([0x54]);

/** USB DFU: download commands are DNLOAD wBlockNum 0 with the opcode first (Table 18). */
export const DFU_DNLOAD_OPCODES: ReadonlySet<number> = USART_WRITE_OPCODES;
/** USB DFU upload: virtual address 0xFFFF00YY, YY = opcode (Table 19). */
export const DFU_VIRTUAL_BASE = 0xffff_0000;
export const DFU_UPLOAD_GET_STATE = 0xffff_0054;
export const DFU_UPLOAD_STORE_USR_KEY = 0xffff_0059;

export function dfuVirtualAddress(opcode: number): number {
  return (DFU_VIRTUAL_BASE | (opcode & 0xff)) >>> 0;
}

/** HCI opcodes (Table 8), for reports and the CPU2 model's log. */
export const FusHciOpcode = {
  GET_STATE: 0xfc52,
  FW_UPGRADE: 0xfc54,
  FW_DELETE: 0xfc55,
  UPDATE_AUTH_KEY: 0xfc56,
  LOCK_AUTH_KEY: 0xfc57,
  STORE_USR_KEY: 0xfc58,
  LOAD_USR_KEY: 0xfc59,
  START_WS: 0xfc5a,
} as const;

/**
 * Table 14 magic numbers, plus two AN5185 Rev 1 does not list, read from ST's shipped
 * coprocessor binaries (STM32CubeWB 1.1.0–1.24.0, fact sheet §5.6).
 */
export const FusMagic = {
  WIRELESS_STACK: 0x23372991,
  FUS: 0x32279221,
  ST_SIGNATURE: 0xd3a12c5e,
  CUSTOMER_SIGNATURE: 0xe2b51d4a,
  OTHER: 0x42769811,
  /** Stacks the release notes mark "FUSv2 only" (NVM data migration format); info1 0x040104CD. */
  WIRELESS_STACK_V2: 0xb10c8b99,
  /** Safeboot 2.0.1 (stm32wb5x_Safeboot_fw.bin of 1.23.0/1.24.0). */
  SAFEBOOT: 0x927a6741,
} as const;

/** info1 of Safeboot 2.0.0, which carries the wireless-stack magic (every release 1.13.0–1.24.0). */
export const SAFEBOOT_INFO1 = 0x5afe_b007;
/** info1 of every "FUSv2 only" stack measured. */
export const FUSV2_STACK_INFO1 = 0x0401_04cd;
/** Table 13 source byte of every ST signature footer measured (Table 13 itself says 0x00). */
export const ST_SIGNATURE_SOURCE_BYTE = 0x57;

/** Device information table (Table 4): validity keyword and where the pointer lives (fact sheet §5.3). */
export const DEVICE_INFO_VALID = 0xa94656b9;
export const SRAM2A_BASE = 0x2003_0000;
/** Typical table address (pointer at SRAM2A_BASE + IPCCDBA × 4). */
export const DEVICE_INFO_TABLE_ADDRESS = 0x2003_0024;

/** Table 4 "Last FUS active state". */
export const LastFusActiveState = {
  FUS_IDLE: 0x00,
  FW_UPGRADE: 0x01,
  FUS_UPGRADE: 0x02,
  FUS_SERVICE: 0x03,
  WIRELESS_STACK_RUNNING: 0x04,
  ERROR: 0xff,
} as const;

/** Table 4 "Last wireless stack state". */
export const LastWirelessStackState = { NOT_STARTED: 0x00, RUNNING: 0x01, ERROR: 0xff } as const;

/** AN5185 §1.2: SBRV while FUS runs. */
export const SBRV_FUS = 0x3d800;

/** AN5185 §2.1.1: a first install is staged at this address minus the image size (1 MB parts). */
export const FIRST_INSTALL_TOP = 0x080f_2000;

/** AN5185 §5.1: 100 user keys + 1 master key. */
export const MAX_USER_KEYS = 100;

/** Table 8 / §5: key types of FUS_STORE_USR_KEY. */
export const UserKeyType = { NONE: 0x00, SIMPLE: 0x01, MASTER: 0x02, ENCRYPTED: 0x03 } as const;
