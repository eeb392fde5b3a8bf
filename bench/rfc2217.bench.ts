import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsartClient } from "../harness/clients/stm32-usart/index.js";
import { startEmulator } from "../harness/expose/emulator-process.js";
import { ser2netCommand, startSer2net } from "../harness/expose/ser2net-process.js";
import { Random } from "../harness/sim/random.js";
import type { ByteStream } from "../harness/transport/byte-stream.js";
import { WallClock } from "../harness/transport/clock.js";
import { openPort } from "../harness/transport/open-port.js";
import { openRfc2217 } from "../harness/transport/rfc2217-stream.js";
import type { BenchResult } from "./harness.js";

const SIZE = 256 * 1024;
const BAUD = 115200;
const ROUNDS = 5;
/** Request-reply turns of one run: 3 per 256-byte block written, 3 per block read back (AN3155). */
const ROUND_TRIPS = 6 * (SIZE / 256);

/**
 * A board on another rack host: 256 KB write + verify (probe, mass erase, write, read back)
 * with our USART client through a real ser2net on loopback (telnet(rfc2217) accepter in
 * front of `hil emulate stm32l432kc --uart-pty`, 8E1 asked over RFC 2217) ÷ the same on
 * the pty directly (what `hil usart --port` opens). Each on a freshly started emulator,
 * the two going first in turn; medians over the rounds. Goal ≤ 1.5. `addedPerRoundTripUs`
 * is what ser2net's hop adds to each of the ≈ 6 150 request-reply turns: two more
 * loopback TCP legs and ser2net's own pty reads and writes. ser2net runs with
 * `tcp(nodelay)` and `chardelay: false` (harness/expose/ser2net-process.ts): with its
 * defaults the same run measured 12-15× the pty (about 8-11 ms added per turn).
 * Measured 2026-12-06 on 2 shared vCPUs, 3 rounds: 1.24 (0.76-1.76), 435 µs per turn.
 */
export async function rfc2217Bench(): Promise<BenchResult> {
  const name = "usart-rfc2217-256k";
  if (!ser2netCommand() || spawnSync("which", ["socat"]).status !== 0) {
    console.error(`${name}: skipped (needs socat and ser2net)`);
    return { name, figures: {}, units: {}, ratios: {} };
  }
  const dir = mkdtempSync(join(tmpdir(), "hil-bench-rfc2217-"));
  const r = new Random(1);
  const image = Uint8Array.from({ length: SIZE }, () => r.byte());
  try {
    const pty: number[] = [];
    const remote: number[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const ms: Record<string, number> = {};
      const order = round % 2 === 0 ? (["pty", "remote"] as const) : (["remote", "pty"] as const);
      for (const who of order) ms[who] = await runMs(image, join(dir, `tty${round}${who}`), who === "remote");
      pty.push(ms.pty!);
      remote.push(ms.remote!);
      ratios.push(ms.remote! / ms.pty!);
    }
    const ptyMs = median(pty);
    const remoteMs = median(remote);
    return {
      name,
      figures: {
        rfc2217Ms: remoteMs,
        ptyMs,
        addedPerRoundTripUs: ((remoteMs - ptyMs) * 1000) / ROUND_TRIPS,
        rounds: ROUNDS,
      },
      units: {
        rfc2217Ms: "ms (through ser2net RFC 2217 on loopback; median)",
        ptyMs: "ms (the pty directly; median)",
        addedPerRoundTripUs: `µs added per request-reply turn (${ROUND_TRIPS} turns)`,
        rounds: "rounds, each path going first in turn",
      },
      ratios: {
        rfc2217OverPty: median(ratios),
        rfc2217OverPtyLowest: Math.min(...ratios),
        rfc2217OverPtyHighest: Math.max(...ratios),
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runMs(image: Uint8Array, link: string, remote: boolean): Promise<number> {
  const clock = new WallClock();
  const emu = await startEmulator("stm32l432kc", link, [], { log: false });
  const ser2net = remote ? await startSer2net([{ device: link, kind: "rfc2217" }]) : undefined;
  try {
    const t0 = clock.now();
    const port: ByteStream = ser2net
      ? await openRfc2217(ser2net.addresses[0]!, { baudRate: BAUD, parity: "even", clock })
      : (await openPort(link, { baudRate: BAUD, parity: "even", clock })).stream;
    const client = new UsartClient(port, { clock });
    await client.probe();
    await client.massErase();
    await client.write(0x0800_0000, image);
    const back = await client.read(0x0800_0000, SIZE);
    await port.close();
    const ms = clock.now() - t0;
    if (!back.every((b, i) => b === image[i]))
      throw new Error(`read back different bytes (${remote ? "rfc2217" : "pty"})`);
    return ms;
  } finally {
    await ser2net?.stop();
    await emu.stop();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}
