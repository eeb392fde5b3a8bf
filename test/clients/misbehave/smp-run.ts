/** One session of SmpClient against a misbehaving nRF52840 (MCUboot + Zephyr SMP server) (smp.spec.ts). */
import fc from "fast-check";
import { SmpClient } from "../../../harness/clients/smp/index.js";
import { Nrf52840McubootDevice } from "../../../harness/devices/nrf52840-mcuboot/device.js";
import { publicOf } from "../../../harness/protocol/mcuboot/index.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";
import { app, goodKey } from "../../devices/nrf52840/helpers.js";
import { breach, changedOutside, type RunResult, requests, settle } from "./contract.js";

export type SmpOp = { kind: "echo" | "list" | "erase" | "params" } | { kind: "upload"; size: number };

export const smpOp: fc.Arbitrary<SmpOp> = fc.oneof(
  fc.constantFrom(
    { kind: "echo" as const },
    { kind: "list" as const },
    { kind: "erase" as const },
    { kind: "params" as const },
  ),
  fc.record({ kind: fc.constant("upload" as const), size: fc.integer({ min: 100, max: 6000 }) }),
);

const TIMEOUT_MS = 2500;
const FIRST_CHUNK_MS = 40_000;
const RETRIES = 2;

/** The primary image every session starts with (signing is slow: once). */
const V1 = app("1.0.0", 3000);

export async function smpRun(seed: number, rate: number, ops: readonly SmpOp[]): Promise<RunResult> {
  const clock = new VirtualClock();
  const dev = new Nrf52840McubootDevice({
    clock,
    seed: 5,
    options: { keys: [publicOf(goodKey)], misbehave: `${seed}:${rate}` },
  });
  dev.program(dev.layout.primary.offset, V1);
  await dev.power.on();
  const before = dev.flash.peek(0, dev.flash.size);
  const client = new SmpClient(dev.port("console"), clock, {
    timeoutMs: TIMEOUT_MS,
    firstChunkTimeoutMs: FIRST_CHUNK_MS,
    retries: RETRIES,
  });
  const problems: string[] = [];
  const secondary = dev.layout.secondary;
  for (const o of ops) {
    let run: () => Promise<unknown>;
    switch (o.kind) {
      case "echo":
        run = () => client.echo("misbehave");
        break;
      case "list":
        run = () => client.list();
        break;
      case "erase":
        run = () => client.erase();
        break;
      case "params":
        run = () => client.params();
        break;
      case "upload": {
        const image = Uint8Array.from({ length: o.size }, (_, i) => (i * 13 + o.size) & 0xff);
        run = () => client.upload(image);
        break;
      }
    }
    const outcome = await settle(clock, client.transcript, run);
    // Each request may wait its timeout on every attempt; the first upload chunk its own.
    const why = breach(outcome, (ex) => (ex + 2) * (RETRIES + 1) * FIRST_CHUNK_MS);
    if (why) problems.push(`${o.kind}: ${why}`);
  }
  // Uploads and erases go to the secondary slot only.
  const stray = changedOutside(dev.flash, before, 0, [[secondary.offset, secondary.offset + secondary.size]]);
  if (stray !== undefined)
    problems.push(`flash changed at 0x${stray.toString(16)}, outside the secondary slot`);
  return { problems, exchanges: requests(client.transcript) };
}
