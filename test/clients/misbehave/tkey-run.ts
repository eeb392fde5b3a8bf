/** One session of TKeyClient against a misbehaving emulated TKey (tkey.spec.ts). */
import fc from "fast-check";
import { DEFAULT_TKEY_TIMEOUTS, TKeyClient } from "../../../harness/clients/tkey/client.js";
import { TKeyDevice } from "../../../harness/devices/tkey/index.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";
import { breach, type RunResult, requests, settle } from "./contract.js";

export type TKeyOp =
  | { kind: "probe" | "name" | "udi" }
  | { kind: "load"; size: number; seed: number; uss: boolean };

export const tkeyOp: fc.Arbitrary<TKeyOp> = fc.oneof(
  fc.constantFrom({ kind: "probe" as const }, { kind: "name" as const }, { kind: "udi" as const }),
  fc.record({
    kind: fc.constant("load" as const),
    size: fc.integer({ min: 1, max: 3000 }),
    seed: fc.integer({ min: 0, max: 255 }),
    uss: fc.boolean(),
  }),
);

export async function tkeyRun(seed: number, rate: number, ops: readonly TKeyOp[]): Promise<RunResult> {
  const clock = new VirtualClock();
  const dev = new TKeyDevice({ clock, seed: 3, options: { misbehave: `${seed}:${rate}` } });
  await dev.power.on();
  const client = new TKeyClient(dev.port("tkey"), { clock });
  const t = DEFAULT_TKEY_TIMEOUTS;
  const problems: string[] = [];
  for (const o of ops) {
    let run: () => Promise<unknown>;
    if (o.kind === "load") {
      const app = Uint8Array.from({ length: o.size }, (_, i) => (i * 31 + o.seed) & 0xff);
      // With a USS the client first asks the UDI (which USS form the product takes).
      run = () => client.loadApp(app, o.uss ? { uss: new Uint8Array(32).fill(o.seed) } : {});
    } else if (o.kind === "probe") run = () => client.probe();
    else if (o.kind === "name") run = () => client.getNameVersion();
    else run = () => client.getUdi();
    const outcome = await settle(clock, client.transcript, run);
    const why = breach(outcome, (ex) => (ex + 2) * (t.lastChunkMs + 1000));
    if (why) problems.push(`${o.kind}: ${why}`);
  }
  await client.close();
  return { problems, exchanges: requests(client.transcript) };
}
