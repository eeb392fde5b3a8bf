import { UsartClient } from "../../../harness/clients/stm32-usart/index.js";
import { Stm32Device } from "../../../harness/devices/stm32/device.js";
import { connectUsart, usartRom } from "../../../harness/devices/stm32/usart/port.js";
import { parseFault } from "../../../harness/sim/faults.js";
import { Random } from "../../../harness/sim/random.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";

export interface Bench {
  device: Stm32Device;
  client: UsartClient;
  rom: ReturnType<typeof usartRom>;
}

/** A powered emulated STM32 in its ROM bootloader, with our client on its USART (virtual time). */
export async function bench(
  profile: "stm32l432kc" | "stm32wb55",
  opts: { options?: Record<string, unknown>; faults?: string[]; seed?: number } = {},
): Promise<Bench> {
  const device = new Stm32Device({
    clock: new VirtualClock(),
    seed: opts.seed ?? 7,
    profile,
    options: opts.options ?? {},
    faults: (opts.faults ?? []).map(parseFault),
  });
  const rom = usartRom(device);
  await device.power.on();
  const client = new UsartClient(connectUsart(device), { clock: device.clock });
  return { device, client, rom };
}

export function randomImage(seed: number, length: number): Uint8Array {
  const r = new Random(seed);
  return Uint8Array.from({ length }, () => r.byte());
}

/** A minimal vector table: SP at the top of SRAM, reset handler (Thumb) just after it. */
export function vectorTable(base: number): Uint8Array {
  const out = new Uint8Array(256).fill(0);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x2000_a000, true);
  view.setUint32(4, (base + 0x101) >>> 0, true);
  return out;
}
