/**
 * One exchange in each emulated profile's own protocol over its pty, for tests that check
 * an emulator answers (right after `ready`, after a burst of power signals): the STM32 ROM's
 * 0x7F sync, the TKey firmware's NAME_VERSION, MCUboot's SMP echo.
 */
import { join } from "node:path";
import { SmpClient } from "../../harness/clients/smp/index.js";
import { UsartClient } from "../../harness/clients/stm32-usart/index.js";
import { TKeyClient } from "../../harness/clients/tkey/index.js";
import { projectRoot } from "../../harness/rig/load.js";
import { WallClock } from "../../harness/transport/clock.js";
import { openSerialPort } from "../../harness/transport/serial-port-stream.js";

/** The profiles `hil emulate --uart-pty` serves, with the arguments each needs to answer. */
export const PTY_PROFILES: readonly { profile: string; args: () => string[] }[] = [
  { profile: "stm32l432kc", args: () => [] },
  { profile: "stm32wb55", args: () => [] },
  { profile: "tkey", args: () => [] },
  {
    profile: "nrf52840-mcuboot",
    args: () => [
      "--key",
      join(projectRoot(), "fixtures/mcuboot/test-only-ecdsa-p256.pub.pem"),
      "--option",
      `image=${join(projectRoot(), "fixtures/mcuboot/test-only-app-1.0.0.signed.bin")}`,
    ],
  },
];

/**
 * Opens `link` and has one exchange with the emulator behind it; resolves with what it
 * answered, throws when the link does not open or nothing answers within `timeoutMs`.
 */
export async function hello(profile: string, link: string, timeoutMs = 2000): Promise<string> {
  const clock = new WallClock();
  const port = await openSerialPort(link, { baudRate: 115200, clock });
  try {
    if (profile.startsWith("stm32")) {
      const client = new UsartClient(port, { clock, timeouts: { byteMs: timeoutMs } });
      return `sync ${await client.connect()}`;
    }
    if (profile === "tkey") {
      const client = new TKeyClient(port, { clock, timeouts: { probeMs: timeoutMs, commandMs: timeoutMs } });
      return (await client.probe()).mode;
    }
    const client = new SmpClient(port, clock, { timeoutMs, retries: 0 });
    return `echo ${await client.echo("hi")}`;
  } finally {
    await port.close();
  }
}
