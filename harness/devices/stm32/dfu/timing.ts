/**
 * Timings of the ROM DFU interface beyond the chip's own table (profiles.ts: erase,
 * program, USB connect). [M] = modelled, not measured; each can be overridden per board.
 */
export interface DfuTiming {
  /** bwPollTimeout reported while manifesting (ST's DfuSe class uses 1 ms). */
  manifestPollMs: number;
  /** L4 quirk: the too-short bwPollTimeout the ROM reports for a page erase [M]. */
  l4QuirkErasePollMs: number;
  /** Application start until its USB device enumerates [M]. */
  appUsbConnectMs: number;
}

export const DFU_TIMING: DfuTiming = {
  manifestPollMs: 1,
  l4QuirkErasePollMs: 8,
  appUsbConnectMs: 100,
};
