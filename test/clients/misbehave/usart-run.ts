/** One session of the USART client against a misbehaving STM32 ROM (usart.spec.ts). */
import fc from "fast-check";
import { DEFAULT_TIMEOUTS, UsartClient } from "../../../harness/clients/stm32-usart/client.js";
import { Stm32Device } from "../../../harness/devices/stm32/device.js";
import { connectUsart } from "../../../harness/devices/stm32/usart/port.js";
import { Random } from "../../../harness/sim/random.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";
import { breach, changedOutside, type RunResult, requests, settle } from "./contract.js";

const FLASH = 0x0800_0000;
const PAGE = 2048;
const SPAN = 64 * 1024;

export type UsartOp =
  | { kind: "probe" | "recover" | "id" | "go" }
  | { kind: "write"; offset: number; length: number }
  | { kind: "read"; offset: number; length: number }
  | { kind: "erase"; page: number; count: number };

export const usartOp: fc.Arbitrary<UsartOp> = fc.oneof(
  fc.constantFrom(
    { kind: "probe" as const },
    { kind: "recover" as const },
    { kind: "id" as const },
    { kind: "go" as const },
  ),
  fc.record({
    kind: fc.constant("write" as const),
    offset: fc.integer({ min: 0, max: SPAN / 4 - 1 }).map((w) => w * 4),
    length: fc.integer({ min: 1, max: 1200 }),
  }),
  fc.record({
    kind: fc.constant("read" as const),
    offset: fc.integer({ min: 0, max: SPAN - 1 }),
    length: fc.integer({ min: 1, max: 1200 }),
  }),
  fc.record({
    kind: fc.constant("erase" as const),
    page: fc.integer({ min: 0, max: SPAN / PAGE - 4 }),
    count: fc.integer({ min: 1, max: 3 }),
  }),
);

export async function usartRun(seed: number, rate: number, ops: readonly UsartOp[]): Promise<RunResult> {
  const clock = new VirtualClock();
  const dev = new Stm32Device({
    clock,
    seed: 3,
    profile: "stm32l432kc",
    options: { misbehave: `${seed}:${rate}` },
  });
  const r = new Random(seed ^ 0x5a5a);
  dev.chip.flash.load(
    FLASH,
    Uint8Array.from({ length: SPAN * 2 }, () => r.byte()),
  );
  await dev.power.on();
  const before = dev.chip.flash.peek(FLASH, SPAN * 2);
  const client = new UsartClient(connectUsart(dev), { clock });
  const t = DEFAULT_TIMEOUTS;
  const problems: string[] = [];
  const allowed: [number, number][] = [];
  for (const o of ops) {
    let run: () => Promise<unknown>;
    let work = t.resyncMs + t.resetMs;
    switch (o.kind) {
      case "probe":
        run = () => client.probe();
        break;
      case "recover":
        run = () => client.recover();
        break;
      case "id":
        run = () => client.getId();
        break;
      case "go":
        // The application is the seeded bytes: whatever runs, the ROM is left.
        run = () => client.go(FLASH);
        break;
      case "write":
        allowed.push([FLASH + o.offset, FLASH + o.offset + Math.ceil(o.length / 4) * 4]);
        run = () => client.write(FLASH + o.offset, new Uint8Array(o.length).fill(o.offset & 0xff));
        work += Math.ceil(o.length / 256) * t.writeBlockMs;
        break;
      case "read":
        run = () => client.read(FLASH + o.offset, o.length);
        break;
      case "erase":
        allowed.push([FLASH + o.page * PAGE, FLASH + (o.page + o.count) * PAGE]);
        run = () => client.erasePages(Array.from({ length: o.count }, (_, i) => o.page + i));
        work += o.count * t.pageEraseMs;
        break;
    }
    const outcome = await settle(clock, client.transcript, run);
    const why = breach(outcome, (ex) => (ex + 2) * (t.byteMs + 1000) + work);
    if (why) problems.push(`${o.kind}: ${why}`);
  }
  await client.close();
  const stray = changedOutside(dev.chip.flash, before, FLASH, allowed);
  if (stray !== undefined) problems.push(`flash changed at 0x${stray.toString(16)}, outside what was asked`);
  return { problems, exchanges: requests(client.transcript) };
}
