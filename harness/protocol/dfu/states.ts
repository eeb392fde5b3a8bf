/** DFU 1.1 device states (spec §6.1.2) with the names dfu-util prints. */
export const DfuState = {
  appIDLE: 0,
  appDETACH: 1,
  dfuIDLE: 2,
  dfuDNLOAD_SYNC: 3,
  dfuDNBUSY: 4,
  dfuDNLOAD_IDLE: 5,
  dfuMANIFEST_SYNC: 6,
  dfuMANIFEST: 7,
  dfuMANIFEST_WAIT_RESET: 8,
  dfuUPLOAD_IDLE: 9,
  dfuERROR: 10,
} as const;
export type DfuState = (typeof DfuState)[keyof typeof DfuState];

export const DFU_STATE_NAMES = [
  "appIDLE",
  "appDETACH",
  "dfuIDLE",
  "dfuDNLOAD-SYNC",
  "dfuDNBUSY",
  "dfuDNLOAD-IDLE",
  "dfuMANIFEST-SYNC",
  "dfuMANIFEST",
  "dfuMANIFEST-WAIT-RESET",
  "dfuUPLOAD-IDLE",
  "dfuERROR",
] as const;
export type DfuStateName = (typeof DFU_STATE_NAMES)[number];

export function stateName(state: number): string {
  return DFU_STATE_NAMES[state] ?? `state ${state}`;
}

export function stateFromName(name: DfuStateName): DfuState {
  return DFU_STATE_NAMES.indexOf(name) as DfuState;
}

/** bStatus codes (spec §6.1.2); meanings as dfu-util prints them. */
export const DfuStatus = {
  OK: 0x00,
  errTARGET: 0x01,
  errFILE: 0x02,
  errWRITE: 0x03,
  errERASE: 0x04,
  errCHECK_ERASED: 0x05,
  errPROG: 0x06,
  errVERIFY: 0x07,
  errADDRESS: 0x08,
  errNOTDONE: 0x09,
  errFIRMWARE: 0x0a,
  errVENDOR: 0x0b,
  errUSBR: 0x0c,
  errPOR: 0x0d,
  errUNKNOWN: 0x0e,
  errSTALLEDPKT: 0x0f,
} as const;
export type DfuStatus = (typeof DfuStatus)[keyof typeof DfuStatus];
export type DfuStatusName = keyof typeof DfuStatus;

export const DFU_STATUS_MEANINGS: Record<DfuStatusName, string> = {
  OK: "No error condition is present",
  errTARGET: "File is not targeted for use by this device",
  errFILE: "File is for this device but fails some vendor-specific test",
  errWRITE: "Device is unable to write memory",
  errERASE: "Memory erase function failed",
  errCHECK_ERASED: "Memory erase check failed",
  errPROG: "Program memory function failed",
  errVERIFY: "Programmed memory failed verification",
  errADDRESS: "Cannot program memory due to received address that is out of range",
  errNOTDONE: "Received DFU_DNLOAD with wLength = 0, but device does not think it has all data yet",
  errFIRMWARE: "Device's firmware is corrupt; cannot return to run-time operations",
  errVENDOR: "iString indicates a vendor specific error",
  errUSBR: "Device detected unexpected USB reset signalling",
  errPOR: "Device detected unexpected power on reset",
  errUNKNOWN: "Something went wrong, but the device does not know what it was",
  errSTALLEDPKT: "Device stalled an unexpected request",
};

const STATUS_BY_CODE = new Map<number, DfuStatusName>(
  Object.entries(DfuStatus).map(([name, code]) => [code, name as DfuStatusName]),
);

/** "errTARGET"; dfu-util prints "INVALID" past 0x0F, so do we. */
export function statusName(status: number): DfuStatusName | "INVALID" {
  return STATUS_BY_CODE.get(status) ?? "INVALID";
}

export function statusMeaning(status: number): string {
  const name = STATUS_BY_CODE.get(status);
  return name ? DFU_STATUS_MEANINGS[name] : `invalid status 0x${status.toString(16)}`;
}
