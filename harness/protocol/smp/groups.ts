/** Management groups and the command ids this harness speaks (smp_group_0/1.rst). */
export const SmpGroup = {
  OS: 0,
  IMAGE: 1,
  STAT: 2,
  SETTINGS: 3,
  LOG: 4,
  CRASH: 5,
  SPLIT: 6,
  RUN: 7,
  FS: 8,
  SHELL: 9,
  ENUM: 10,
  ZEPHYR_BASIC: 63,
  PERUSER: 64,
} as const;

export const OsCommand = {
  ECHO: 0,
  CONSOLE_ECHO: 1,
  TASKSTAT: 2,
  MPSTAT: 3,
  DATETIME: 4,
  RESET: 5,
  MCUMGR_PARAMS: 6,
  INFO: 7,
  BOOTLOADER_INFO: 8,
} as const;
export const ImageCommand = {
  STATE: 0,
  UPLOAD: 1,
  FILE: 2,
  CORELIST: 3,
  CORELOAD: 4,
  ERASE: 5,
  SLOT_INFO: 6,
} as const;

/** MGMT_ERR_* (mcumgr_err_t): SMP-level rc values, also the v1 form of group errors. */
export const MgmtErr = {
  EOK: 0,
  EUNKNOWN: 1,
  ENOMEM: 2,
  EINVAL: 3,
  ETIMEOUT: 4,
  ENOENT: 5,
  EBADSTATE: 6,
  EMSGSIZE: 7,
  ENOTSUP: 8,
  ECORRUPT: 9,
  EBUSY: 10,
  EACCESSDENIED: 11,
  UNSUPPORTED_TOO_OLD: 12,
  UNSUPPORTED_TOO_NEW: 13,
} as const;

/** os_mgmt_err_code_t (Zephyr os_mgmt.h): the OS group's v2 rc values. */
export const OsMgmtErr = {
  OK: 0,
  UNKNOWN: 1,
  INVALID_FORMAT: 2,
  QUERY_YIELDS_NO_ANSWER: 3,
  RTC_NOT_SET: 4,
  RTC_COMMAND_FAILED: 5,
  QUERY_RESPONSE_VALUE_NOT_VALID: 6,
} as const;

/** img_mgmt_err_code_t: the image group's v2 rc values. */
export const ImgMgmtErr = {
  OK: 0,
  UNKNOWN: 1,
  FLASH_CONFIG_QUERY_FAIL: 2,
  NO_IMAGE: 3,
  NO_TLVS: 4,
  INVALID_TLV: 5,
  TLV_MULTIPLE_HASHES_FOUND: 6,
  TLV_INVALID_SIZE: 7,
  HASH_NOT_FOUND: 8,
  NO_FREE_SLOT: 9,
  FLASH_OPEN_FAILED: 10,
  FLASH_READ_FAILED: 11,
  FLASH_WRITE_FAILED: 12,
  FLASH_ERASE_FAILED: 13,
  INVALID_SLOT: 14,
  NO_FREE_MEMORY: 15,
  FLASH_CONTEXT_ALREADY_SET: 16,
  FLASH_CONTEXT_NOT_SET: 17,
  FLASH_AREA_DEVICE_NULL: 18,
  INVALID_PAGE_OFFSET: 19,
  INVALID_OFFSET: 20,
  INVALID_LENGTH: 21,
  INVALID_IMAGE_HEADER: 22,
  INVALID_IMAGE_HEADER_MAGIC: 23,
  INVALID_HASH: 24,
  INVALID_FLASH_ADDRESS: 25,
  VERSION_GET_FAILED: 26,
  CURRENT_VERSION_IS_NEWER: 27,
  IMAGE_ALREADY_PENDING: 28,
  INVALID_IMAGE_VECTOR_TABLE: 29,
  INVALID_IMAGE_TOO_LARGE: 30,
  INVALID_IMAGE_DATA_OVERRUN: 31,
  IMAGE_CONFIRMATION_DENIED: 32,
  IMAGE_SETTING_TEST_TO_ACTIVE_DENIED: 33,
  ACTIVE_SLOT_NOT_KNOWN: 34,
} as const;

const nameOf = (table: Record<string, number>, rc: number): string =>
  Object.entries(table).find(([, v]) => v === rc)?.[0] ?? (rc >= 256 ? `EPERUSER+${rc - 256}` : `rc ${rc}`);

export const mgmtErrName = (rc: number): string => nameOf(MgmtErr, rc);
export const imgMgmtErrName = (rc: number): string => nameOf(ImgMgmtErr, rc);
/** The os_mgmt name of an OS-group rc (`QUERY_YIELDS_NO_ANSWER`), or `rc N`. */
export const osMgmtErrName = (rc: number): string => nameOf(OsMgmtErr, rc);

/**
 * The documented name of a reply's rc: a v2 group error by its group's table (img_mgmt,
 * os_mgmt), MGMT_ERR names otherwise.
 */
export function rcName(rc: number, group: number | undefined): string {
  if (group === SmpGroup.IMAGE) return `IMG_MGMT_ERR_${imgMgmtErrName(rc)} (${rc})`;
  if (group === SmpGroup.OS) return `OS_MGMT_ERR_${osMgmtErrName(rc)} (${rc})`;
  return `MGMT_ERR_${mgmtErrName(rc)} (${rc})`;
}

/** A reply's error, if any: a v2 group error (`err: {group, rc}`) or a v1 `rc` (with `rsn`). */
export interface ReplyError {
  rc: number;
  group: number | undefined;
  reason: string | undefined;
}

export function replyError(body: Record<string, unknown>): ReplyError | undefined {
  const err = body.err as { group?: number; rc?: number } | undefined;
  if (err && typeof err.rc === "number" && err.rc !== 0)
    return { rc: err.rc, group: err.group, reason: undefined };
  if (typeof body.rc === "number" && body.rc !== 0)
    return { rc: body.rc, group: undefined, reason: typeof body.rsn === "string" ? body.rsn : undefined };
  return undefined;
}

/**
 * How Zephyr translates an image-group error for a v1 request (SMP_SUPPORT_ORIGINAL_PROTOCOL):
 * the detail is lost, and everything not listed becomes EUNKNOWN.
 */
export function imgErrToV1(rc: number): number {
  const E = ImgMgmtErr;
  switch (rc) {
    case E.OK:
      return MgmtErr.EOK;
    case E.NO_IMAGE:
    case E.NO_TLVS:
      return MgmtErr.ENOENT;
    case E.NO_FREE_SLOT:
    case E.CURRENT_VERSION_IS_NEWER:
    case E.IMAGE_ALREADY_PENDING:
      return MgmtErr.EBADSTATE;
    case E.NO_FREE_MEMORY:
      return MgmtErr.ENOMEM;
    case E.INVALID_SLOT:
    case E.INVALID_PAGE_OFFSET:
    case E.INVALID_OFFSET:
    case E.INVALID_LENGTH:
    case E.INVALID_IMAGE_HEADER:
    case E.INVALID_HASH:
    case E.INVALID_FLASH_ADDRESS:
      return MgmtErr.EINVAL;
    default:
      return MgmtErr.EUNKNOWN;
  }
}

/**
 * How Zephyr translates an OS-group error for a v1 request (os_mgmt_translate_error_code):
 * a query without answer or an unset RTC is ENOENT, a bad format EINVAL, the rest EUNKNOWN.
 */
export function osErrToV1(rc: number): number {
  switch (rc) {
    case OsMgmtErr.OK:
      return MgmtErr.EOK;
    case OsMgmtErr.INVALID_FORMAT:
      return MgmtErr.EINVAL;
    case OsMgmtErr.QUERY_YIELDS_NO_ANSWER:
    case OsMgmtErr.RTC_NOT_SET:
      return MgmtErr.ENOENT;
    default:
      return MgmtErr.EUNKNOWN;
  }
}
