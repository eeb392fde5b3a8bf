/**
 * nRF52840 + MCUboot board profile: flash geometry, partition layout and timings.
 *
 * Flash (nRF52840 Product Specification, NVMC): 1 MB in 256 pages of 4 KB, 32-bit word
 * writes, page erase tERASEPAGE 85 ms, word write tWRITE 41 µs (maximum values).
 * Layout: MCUboot 48 KB at 0 (the nRF Connect SDK default 0xC000), then two equal image
 * slots and a scratch area, settings storage at the top.
 */
export const NRF52840_FLASH = {
  base: 0x0000_0000,
  pageSize: 0x1000,
  pageCount: 256,
  /** NVMC writes 32-bit words: MCUboot's BOOT_WRITE_SZ / flash write alignment. */
  writeSize: 4,
} as const;

export interface Partition {
  offset: number;
  size: number;
}

export interface McubootLayout {
  boot: Partition;
  primary: Partition;
  secondary: Partition;
  scratch: Partition;
  storage: Partition;
}

export const NRF52840DK_LAYOUT: McubootLayout = {
  boot: { offset: 0x00000, size: 0x0c000 },
  primary: { offset: 0x0c000, size: 0x76000 },
  secondary: { offset: 0x82000, size: 0x76000 },
  scratch: { offset: 0xf8000, size: 0x02000 },
  storage: { offset: 0xfa000, size: 0x06000 },
};

/** Device times in ms; a board's `options.timing` (timing-overlay.ts) replaces any of them. */
export interface Nrf52840Timing {
  readonly pageEraseMs: number;
  readonly wordWriteMs: number;
  /** MCUboot start-up before its decisions (our estimate; not from a datasheet). */
  readonly bootloaderMs: number;
  /** Zephyr CONFIG_MCUMGR_GRP_OS_RESET_MS default: the reset follows its response after this. */
  readonly smpResetDelayMs: number;
  /**
   * Per uploaded image byte, beyond the flash writes: the console line and the server's
   * work. 0 here (the emulator's line takes no time); a calibration from a real board sets it.
   */
  readonly uploadByteMs: number;
}

export const NRF52840_TIMING: Nrf52840Timing = {
  pageEraseMs: 85,
  wordWriteMs: 0.041,
  bootloaderMs: 20,
  smpResetDelayMs: 250,
  uploadByteMs: 0,
};

/** The SMP server's buffers (Zephyr MCUMGR_TRANSPORT_NETBUF_SIZE / _COUNT defaults). */
export const SMP_SERVER_PARAMS = { bufSize: 384, bufCount: 4 } as const;

/** BOOT_MAX_ALIGN as built for nRF52 (8): trailer field spacing and the classic magic. */
export const MCUBOOT_MAX_ALIGN = 8;

export type SwapMode = "move" | "scratch" | "overwrite-only";
export const SWAP_MODES: readonly SwapMode[] = ["move", "scratch", "overwrite-only"];

/**
 * The upgrade methods by MCUboot's names (Kconfig BOOT_SWAP_USING_MOVE,
 * BOOT_SWAP_USING_SCRATCH, BOOT_UPGRADE_ONLY), as `--option mode=` and a rig file's emulated
 * options take them; "move" and "scratch" are accepted as short forms.
 */
const MODE_NAMES: Record<string, SwapMode> = {
  "swap-using-move": "move",
  "swap-using-scratch": "scratch",
  "overwrite-only": "overwrite-only",
  move: "move",
  scratch: "scratch",
};

export function parseSwapMode(value: unknown): SwapMode {
  const mode = typeof value === "string" && Object.hasOwn(MODE_NAMES, value) ? MODE_NAMES[value] : undefined;
  if (!mode)
    throw new Error(
      `nrf52840: unknown mode '${String(value)}' (known: swap-using-move, swap-using-scratch, overwrite-only)`,
    );
  return mode;
}

export const PROFILES: Record<string, McubootLayout> = { "nrf52840dk-mcuboot": NRF52840DK_LAYOUT };
