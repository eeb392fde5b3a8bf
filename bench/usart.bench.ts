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
/** Rounds of the pair, alternating which goes first: on a shared machine one pair swings by ±20 %. */
const ROUNDS = 5;

/**
 * 256 KB write + verify over `hil emulate stm32l432kc` on a real pty: our client against
 * stm32flash, each on a freshly started emulator (so both sync on a clean bootloader),
 * same image, same run. Both mass-erase first (stm32flash does for a whole-flash write).
 * Figures are medians over the rounds; the ratio is the median of each round's ratio, with
 * the lowest and highest beside it (one pair on a shared 2-vCPU machine swings by ±10 %).
 * Goal: ours ÷ stm32flash ≤ 1.0.
 *
 * Where the floor is (measured 2026-11-22, 2 vCPUs, see issue 7's note): both clients make
 * the same 6 150 round trips (3 per 256-byte block written, 3 per block read back) to the
 * same emulator, so the ratio only measures the client's turnaround per reply. A minimal
 * node script with blocking `readSync` on the pty (the way stm32flash waits) runs at parity
 * with stm32flash (3441/3482/3487 vs 3518/3478/3448 ms); the same script waiting on the
 * event loop (tty ReadStream, nothing else) is where our client is, 1.05-1.12: about 70 µs
 * per reply for node's wake-up path, most of it in the tail. A worker reading and
 * `Atomics.waitAsync` on the main thread is slower still. So ≤ 1.0 needs a client that
 * blocks its thread on each reply; the harness keeps its event loop free for power-cut
 * timers, watchdogs and other boards, and its per-reply work is within a few µs of the
 * minimal script.
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
  try {
    const ours: number[] = [];
    const theirs: number[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const sfFirst = round % 2 === 0;
      const a = sfFirst ? await stm32flashMs(file, link) : await oursMs(image, link);
      const b = sfFirst ? await oursMs(image, link) : await stm32flashMs(file, link);
      const [o, t] = sfFirst ? [b, a] : [a, b];
      ours.push(o);
      theirs.push(t);
      ratios.push(o / t);
    }
    const oursMedian = median(ours);
    const stm32flashMedian = median(theirs);
    return {
      name,
      figures: {
        oursMs: oursMedian,
        stm32flashMs: stm32flashMedian,
        oursThroughput: SIZE / (oursMedian / 1000),
        stm32flashThroughput: SIZE / (stm32flashMedian / 1000),
        rounds: ROUNDS,
      },
      units: {
        oursMs: "ms (probe, mass erase, write, verify; median)",
        stm32flashMs: "ms (stm32flash -w -v; median)",
        oursThroughput: "bytes/s",
        stm32flashThroughput: "bytes/s",
        rounds: "pairs, alternating which runs first",
      },
      ratios: {
        oursOverStm32flash: median(ratios),
        oursOverStm32flashLowest: Math.min(...ratios),
        oursOverStm32flashHighest: Math.max(...ratios),
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function stm32flashMs(file: string, link: string): Promise<number> {
  const clock = new WallClock();
  const emu = await startEmulator("stm32l432kc", link, [], { log: false });
  const t0 = clock.now();
  const sf = await execa("stm32flash", ["-m", "8n1", "-b", String(BAUD), "-w", file, "-v", link], {
    reject: false,
    all: true,
  });
  const ms = clock.now() - t0;
  await emu.stop();
  if (sf.exitCode !== 0) throw new Error(`stm32flash failed: ${String(sf.all).slice(-400)}`);
  return ms;
}

async function oursMs(image: Uint8Array, link: string): Promise<number> {
  const clock = new WallClock();
  const emu = await startEmulator("stm32l432kc", link, [], { log: false });
  const t0 = clock.now();
  const port = process.env.HIL_BENCH_SERIALPORT
    ? await openSerialPort(link, { baudRate: BAUD, parity: "even", clock })
    : openPty(link, { clock });
  const client = new UsartBootloader(port, { clock });
  await client.probe();
  await client.massErase();
  await client.write(0x0800_0000, image);
  const back = await client.read(0x0800_0000, SIZE);
  await port.close();
  const ms = clock.now() - t0;
  await emu.stop();
  if (!back.every((b, i) => b === image[i])) throw new Error("our client read back different bytes");
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}
