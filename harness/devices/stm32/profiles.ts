/**
 * STM32 parts the emulator models, with their ROM bootloader parameters. Sources: the fact
 * sheet reference/stm32-bootloader-dfu-fus.md §3 (AN2606 Rev 70 tables, stm32flash
 * dev_table, qFlipper) and §5.5 (WB55 option bytes). One profile serves both ROM
 * interfaces (USB DFU and USART): they share flash, option bytes and RDP.
 */
export type Stm32ProfileName = "stm32l432kc" | "stm32wb55";

export interface MemoryRange {
  base: number;
  size: number;
}

/** Device timing table (datasheet / AN2606 figures; the [M]-marked ones are configurable by design). */
export interface Stm32Timing {
  /** Page erase, typical (tERASE ≈ 22 ms on L4/WB). */
  pageEraseMs: number;
  /** One 64-bit (double-word) program, typical (tPROG ≈ 82 µs). */
  doubleWordProgramMs: number;
  /** Whole-bank mass erase. */
  massEraseMs: number;
  /** Bootloader start after reset (AN2606 T227). */
  bootloaderStartMs: number;
  /** USB plug → usable (AN2606 T227: L432 820 ms, WB55 300 ms). */
  usbConnectMs: number;
}

export interface Stm32Profile {
  name: Stm32ProfileName;
  /** Family in rig files. */
  family: "stm32l432" | "stm32wb55";
  /** Product ID answered by Get ID (USART) and in DBGMCU_IDCODE. */
  pid: number;
  /** Bootloader ID byte at 0x1FFF6FFE (0x91 = V9.1, 0xD5 = V13.5). */
  bootloaderId: number;
  /** AN3155 protocol version answered by Get / Get Version. */
  usartProtocolVersion: number;
  flash: { base: number; pageSize: number; pages: number };
  /** Program unit of the flash controller: 64-bit double words on L4/WB. */
  programUnit: number;
  optionBytes: MemoryRange;
  otp: MemoryRange;
  systemMemory: MemoryRange;
  sram: MemoryRange;
  /** RAM the bootloader lets a host write (AN2606 T226). */
  hostRam: MemoryRange;
  /** Mass erase offered by the ROM (WB55: refused over USB, hangs over USART). */
  massErase: boolean;
  timing: Stm32Timing;
  /** USB identity of the ROM DFU bootloader. */
  usb: { vendorId: number; productId: number; product: string; manufacturer: string };
}

const ST_USB = {
  vendorId: 0x0483,
  productId: 0xdf11,
  product: "STM32  BOOTLOADER",
  manufacturer: "STMicroelectronics",
};

export const PROFILES: Readonly<Record<Stm32ProfileName, Stm32Profile>> = {
  stm32l432kc: {
    name: "stm32l432kc",
    family: "stm32l432",
    pid: 0x435,
    bootloaderId: 0x91,
    usartProtocolVersion: 0x31,
    flash: { base: 0x0800_0000, pageSize: 2048, pages: 128 },
    programUnit: 8,
    // stm32flash lists 0x1FFF7800–0x1FFF780F; RM0394 [M] puts WRP1AR/WRP1BR at +0x18/+0x20, so the model spans 0x28.
    optionBytes: { base: 0x1fff_7800, size: 0x28 },
    otp: { base: 0x1fff_7000, size: 1024 },
    systemMemory: { base: 0x1fff_0000, size: 0x7000 },
    sram: { base: 0x2000_0000, size: 0xc000 },
    hostRam: { base: 0x2000_3100, size: 0x2000_c000 - 0x2000_3100 },
    massErase: true,
    timing: {
      pageEraseMs: 22,
      doubleWordProgramMs: 0.082,
      massEraseMs: 22,
      bootloaderStartMs: 0.86,
      usbConnectMs: 820,
    },
    usb: ST_USB,
  },
  stm32wb55: {
    name: "stm32wb55",
    family: "stm32wb55",
    pid: 0x495,
    bootloaderId: 0xd5,
    usartProtocolVersion: 0x31,
    flash: { base: 0x0800_0000, pageSize: 4096, pages: 256 },
    programUnit: 8,
    optionBytes: { base: 0x1fff_8000, size: 0x80 },
    otp: { base: 0x1fff_7000, size: 1024 },
    systemMemory: { base: 0x1fff_0000, size: 0x7000 },
    // SRAM1 192 KB + SRAM2a 32 KB (FUS device information table at 0x20030000) + SRAM2b 32 KB.
    sram: { base: 0x2000_0000, size: 0x40000 },
    hostRam: { base: 0x2000_4000, size: 0x2000_c000 - 0x2000_4000 },
    massErase: false,
    timing: {
      pageEraseMs: 22,
      doubleWordProgramMs: 0.082,
      massEraseMs: 22,
      bootloaderStartMs: 0.39,
      usbConnectMs: 300,
    },
    usb: ST_USB,
  },
};

export function profileByName(name: string): Stm32Profile {
  const p = (PROFILES as Record<string, Stm32Profile>)[name];
  if (!p) throw new Error(`unknown STM32 profile '${name}' (known: ${Object.keys(PROFILES).join(", ")})`);
  return p;
}

/** Default profile of a rig family. */
export function profileForFamily(family: string): Stm32Profile {
  const p = Object.values(PROFILES).find((x) => x.family === family);
  if (!p) throw new Error(`no STM32 profile for family '${family}'`);
  return p;
}
