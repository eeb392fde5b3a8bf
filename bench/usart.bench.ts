import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { UsartBootloader } from "../harness/clients/stm32-usart/index.js";
import { startEmulator } from "../harness/expose/emulator-process.js";
import { Random } from "../harness/sim/random.js";
import { WallClock } from "../harness/transport/clock.js";
import { openSerialPort } from "../harness/transport/serial-port-stream.js";
import { openPty } from "../harness/transport/tty-stream.js";
import type { BenchResult } from "./harness.js";

const SIZE = 256 * 1024;
const BAUD = 115200;

/**
 * 256 KB write + verify over `hil emulate stm32l432kc` on a real pty: our client against
 * stm32flash, each on a freshly started emulator (so both sync on a clean bootloader),
 * same image, same run. Both mass-erase first (stm32flash does for a whole-flash write).
 * Goal: ours ÷ stm32flash ≤ 1.0.
 */
export async function usartBench(): Promise<BenchResult> {
  const name = "usart-pty-256k";
  if (["socat", "stm32flash"].some((t) => spawnSync("which", [t]).status !== 0)) {
    console.error(`${name}: skipped (needs socat and stm32flash)`);
    return { name, figures: {}, units: {}, ratios: {} };
  }
  const dir = mkdtempSync(join(tmpdir(), "hil-bench-usart-"));
  const link = join(dir, "tty");
  const file = join(dir, "image.bin");
  const r = new Random(1);
  const image = Uint8Array.from({ length: SIZE }, () => r.byte());
  writeFileSync(file, image);
  const clock = new WallClock();
  try {
    let emu = await startEmulator("stm32l432kc", link, [], { log: false });
    let t0 = clock.now();
    const sf = await execa("stm32flash", ["-m", "8n1", "-b", String(BAUD), "-w", file, "-v", link], {
      reject: false,
      all: true,
    });
    const stm32flashMs = clock.now() - t0;
    await emu.stop();
    if (sf.exitCode !== 0) throw new Error(`stm32flash failed: ${String(sf.all).slice(-400)}`);

    emu = await startEmulator("stm32l432kc", link, [], { log: false });
    t0 = clock.now();
    const port = process.env.HIL_BENCH_SERIALPORT
      ? await openSerialPort(link, { baudRate: BAUD, parity: "even", clock })
      : openPty(link, { clock });
    const client = new UsartBootloader(port, { clock });
    await client.probe();
    await client.massErase();
    await client.write(0x0800_0000, image);
    const back = await client.read(0x0800_0000, SIZE);
    await port.close();
    const oursMs = clock.now() - t0;
    await emu.stop();
    if (!back.every((b, i) => b === image[i])) throw new Error("our client read back different bytes");

    return {
      name,
      figures: {
        oursMs,
        stm32flashMs,
        oursThroughput: SIZE / (oursMs / 1000),
        stm32flashThroughput: SIZE / (stm32flashMs / 1000),
      },
      units: {
        oursMs: "ms (probe, mass erase, write, verify)",
        stm32flashMs: "ms (stm32flash -w -v)",
        oursThroughput: "bytes/s",
        stm32flashThroughput: "bytes/s",
      },
      ratios: { oursOverStm32flash: oursMs / stm32flashMs },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
