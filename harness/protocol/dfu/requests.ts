/**
 * DFU 1.1 class requests (spec §3, AN3156 Table 3). All go to the DFU interface:
 * bmRequestType 0x21 host-to-device, 0xA1 device-to-host; wIndex = interface number.
 */
export const DfuRequest = {
  DETACH: 0,
  DNLOAD: 1,
  UPLOAD: 2,
  GETSTATUS: 3,
  CLRSTATUS: 4,
  GETSTATE: 5,
  ABORT: 6,
} as const;
export type DfuRequest = (typeof DfuRequest)[keyof typeof DfuRequest];

export const DFU_REQUEST_NAMES: Record<DfuRequest, string> = {
  0: "DFU_DETACH",
  1: "DFU_DNLOAD",
  2: "DFU_UPLOAD",
  3: "DFU_GETSTATUS",
  4: "DFU_CLRSTATUS",
  5: "DFU_GETSTATE",
  6: "DFU_ABORT",
};

/** class | interface recipient, OUT and IN. */
export const BM_REQUEST_TYPE_OUT = 0x21;
export const BM_REQUEST_TYPE_IN = 0xa1;

/** Whether the request carries its data from device to host. */
export function isInRequest(request: DfuRequest): boolean {
  return request === DfuRequest.UPLOAD || request === DfuRequest.GETSTATUS || request === DfuRequest.GETSTATE;
}

export function requestName(request: number): string {
  return DFU_REQUEST_NAMES[request as DfuRequest] ?? `request ${request}`;
}

/** Length of the GETSTATUS reply; dfu-util rejects any other length. */
export const GETSTATUS_LENGTH = 6;
export const GETSTATE_LENGTH = 1;
