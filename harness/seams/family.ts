/** Device families the harness knows. A rig file naming another family is a schema error. */
export const FAMILIES = ["stm32l432", "stm32wb55", "tkey", "nrf52840", "sim-nor"] as const;
export type Family = (typeof FAMILIES)[number];

/**
 * What a rig file may say a board can do. Suites declare the capabilities they need and
 * are skipped with the reason on boards that lack them.
 * - power-cut: the power backend really removes power (not just a USB data disconnect)
 * - fus: STM32WB firmware upgrade services reachable
 * - sacrificial: irreversible operations allowed (still needs the run's explicit flag)
 * - flash-faults: flash-level fault injection (emulator only)
 */
export const RIG_FILE_CAPABILITIES = [
  "power-cut",
  "fus",
  "sacrificial",
  "flash-faults",
  "usart",
  "usb-dfu",
] as const;

/**
 * Every capability a suite can ask for: the rig-file ones, plus those the harness derives
 * from the board itself. A rig file may list them too, and its schema refuses them where
 * the board cannot have them.
 * - inspect: white-box access to the board's memories, state and fault plan (every
 *   emulated board has it; a lab board would need a debug probe, refused for now)
 */
export const CAPABILITIES = [...RIG_FILE_CAPABILITIES, "inspect"] as const;
export type Capability = (typeof CAPABILITIES)[number];
