/** One session of DfuClient against the ROM DFU with the `misbehave` personality (dfu.spec.ts). */
import fc from "fast-check";
import { DfuClient } from "../../../harness/clients/dfu/index.js";
import { Stm32Device } from "../../../harness/devices/stm32/device.js";
import { attachUsbDfu, EmulatedUsbBus } from "../../../harness/devices/stm32/dfu/index.js";
import { loadImage } from "../../../harness/protocol/dfu/index.js";
import { Random } from "../../../harness/sim/random.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";
import { Transcript } from "../../../harness/transport/transcript.js";
import { breach, changedOutside, type RunResult, requests, settle } from "./contract.js";

const ROM = { vendorId: 0x0483, productId: 0xdf11 };
const FLASH = 0x0800_0000;
const PAGE = 2048;
const SPAN = 64 * 1024;
const TRANSFER_MS = 5000;

export type Op =
  | { kind: "download"; offset: number; length: number }
  | { kind: "upload"; offset: number; length: number }
  | { kind: "erase"; page: number }
  | { kind: "commands" }
  | { kind: "leave" }
  | { kind: "reconnect" };

export const dfuOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("download" as const),
    offset: fc.integer({ min: 0, max: SPAN - 1 }),
    length: fc.integer({ min: 1, max: 6000 }),
  }),
  fc.record({
    kind: fc.constant("upload" as const),
    offset: fc.integer({ min: 0, max: SPAN - 1 }),
    length: fc.integer({ min: 1, max: 5000 }),
  }),
  fc.record({ kind: fc.constant("erase" as const), page: fc.integer({ min: 0, max: SPAN / PAGE - 1 }) }),
  fc.constant({ kind: "commands" as const }),
  fc.constant({ kind: "leave" as const }),
  fc.constant({ kind: "reconnect" as const }),
);

/** [start, end) of the pages `offset..offset+length` touches. */
function pagesOf(offset: number, length: number): [number, number] {
  const start = Math.floor(offset / PAGE) * PAGE;
  return [FLASH + start, FLASH + Math.ceil((offset + length) / PAGE) * PAGE];
}

/** One session: a misbehaving board, the client, the operations in turn. */
export async function dfuRun(seed: number, rate: number, ops: readonly Op[]): Promise<RunResult> {
  const clock = new VirtualClock();
  const dev = new Stm32Device({
    clock,
    seed: 3,
    profile: "stm32l432kc",
    options: { misbehave: `${seed}:${rate}` },
  });
  const port = attachUsbDfu(dev);
  // Seeded contents, so a stray write or erase shows.
  const r = new Random(seed ^ 0x5a5a);
  dev.chip.flash.load(
    FLASH,
    Uint8Array.from({ length: SPAN * 2 }, () => r.byte()),
  );
  await dev.power.on();
  const before = dev.chip.flash.peek(FLASH, SPAN * 2);
  const bus = new EmulatedUsbBus([port], clock);
  const transcript = new Transcript({ clock });
  const problems: string[] = [];
  const allowed: [number, number][] = [];
  const budget = (ex: number, work = 0) => (ex + 2) * (TRANSFER_MS + 100) + work;
  const opened = await settle(clock, transcript, () =>
    DfuClient.open(bus, ROM, { clock, transcript, alt: 0, timeouts: { transferMs: TRANSFER_MS } }),
  );
  const bad = breach(opened, (ex) => budget(ex, 5000));
  if (bad) problems.push(`open: ${bad}`);
  const client = opened.kind === "ok" ? opened.value : undefined;
  if (client)
    for (const o of ops) {
      let run: () => Promise<unknown>;
      switch (o.kind) {
        case "download": {
          allowed.push(pagesOf(o.offset, o.length));
          const data = Uint8Array.from({ length: o.length }, (_, i) => (i * 7 + o.offset) & 0xff);
          run = () => client.download(loadImage("x.bin", data, { address: FLASH + o.offset }));
          break;
        }
        case "upload":
          run = () => client.upload(FLASH + o.offset, o.length);
          break;
        case "erase":
          allowed.push(pagesOf(o.page * PAGE, 1));
          run = () => client.erasePage(FLASH + o.page * PAGE);
          break;
        case "commands":
          run = () => client.getCommands();
          break;
        case "leave":
          run = () => client.leave();
          break;
        case "reconnect":
          run = () => client.reconnect();
          break;
      }
      const outcome = await settle(clock, transcript, run);
      const why = breach(outcome, (ex) => budget(ex, 5000));
      if (why) problems.push(`${o.kind}: ${why}`);
    }
  await client?.close();
  const stray = changedOutside(dev.chip.flash, before, FLASH, allowed);
  if (stray !== undefined) problems.push(`flash changed at 0x${stray.toString(16)}, outside what was asked`);
  return { problems, exchanges: requests(transcript) };
}
