import {
  DfuFusLink,
  FusClient,
  type FusClientOptions,
  UsartFusLink,
} from "../../../harness/clients/fus/index.js";
import { Stm32Device } from "../../../harness/devices/stm32/device.js";
import { EmulatedUsbBus } from "../../../harness/devices/stm32/dfu/bus.js";
import { attachUsbDfu } from "../../../harness/devices/stm32/dfu/index.js";
import { connectUsart } from "../../../harness/devices/stm32/usart/port.js";
import type { Fault } from "../../../harness/sim/faults.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";

export type Transport = "usb-dfu" | "usart";
export const TRANSPORTS: Transport[] = ["usb-dfu", "usart"];

export interface FusBench {
  dev: Stm32Device;
  clock: VirtualClock;
  client: FusClient;
}

/** A powered WB55 in its ROM bootloader and a FusClient over `transport`. */
export async function fusBench(
  transport: Transport,
  opts: {
    seed?: number;
    faults?: Fault[];
    factoryStack?: boolean;
    client?: FusClientOptions;
    /** Emulator options beside fusFactoryStack (`st-signature`, ...). */
    options?: Record<string, unknown>;
  } = {},
): Promise<FusBench> {
  const clock = new VirtualClock();
  const dev = new Stm32Device({
    clock,
    seed: opts.seed ?? 11,
    profile: "stm32wb55",
    faults: opts.faults,
    options: { fusFactoryStack: opts.factoryStack ?? true, ...opts.options },
  });
  const port = attachUsbDfu(dev);
  await dev.power.on();
  const link =
    transport === "usb-dfu"
      ? await DfuFusLink.open(
          new EmulatedUsbBus([port], clock),
          { vendorId: 0x0483, productId: 0xdf11 },
          { clock, timeouts: { enumerateMs: 5000 } },
        )
      : new UsartFusLink(connectUsart(dev), clock);
  return { dev, clock, client: new FusClient(link, opts.client) };
}
