/** One session of FusClient over USB DFU or USART against a misbehaving WB55 (fus.spec.ts). */
import fc from "fast-check";
import { STACK_1 } from "../../../fixtures/fus/build.js";
import { DfuFusLink, FusClient, type FusLink, UsartFusLink } from "../../../harness/clients/fus/index.js";
import { Stm32Device } from "../../../harness/devices/stm32/device.js";
import { attachUsbDfu, EmulatedUsbBus } from "../../../harness/devices/stm32/dfu/index.js";
import { connectUsart } from "../../../harness/devices/stm32/usart/port.js";
import { Random } from "../../../harness/sim/random.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";
import { Transcript } from "../../../harness/transport/transcript.js";
import { breach, changedOutside, type RunResult, requests, settle } from "./contract.js";

export type FusLinkKind = "usb-dfu" | "usart";
export type FusOp = { kind: "state" | "start" | "info" | "bounds" | "delete" | "install" | "startStack" };

export const fusOp: fc.Arbitrary<FusOp> = fc
  .constantFrom("state", "start", "info", "bounds", "delete", "install", "startStack")
  .map((kind) => ({ kind }) as FusOp);

const FLASH = 0x0800_0000;
/** The user's application below anything FUS or a staged image may touch. */
const USER_SPAN = 256 * 1024;
const POLL_MS = 1000;
const OFFLINE_MS = 30_000;
const OPERATION_MS = 300_000;
const TRANSFER_MS = 6000;

/** The stack image every session may install (building it is slow: once). */
const STACK = STACK_1();

export async function fusRun(
  link: FusLinkKind,
  seed: number,
  rate: number,
  ops: readonly FusOp[],
): Promise<RunResult> {
  const clock = new VirtualClock();
  const dev = new Stm32Device({
    clock,
    seed: 11,
    profile: "stm32wb55",
    options: { fusFactoryStack: true, misbehave: `${seed}:${rate}` },
  });
  const port = attachUsbDfu(dev);
  const r = new Random(seed ^ 0x5a5a);
  dev.chip.flash.load(
    FLASH,
    Uint8Array.from({ length: USER_SPAN }, () => r.byte()),
  );
  await dev.power.on();
  const before = dev.chip.flash.peek(FLASH, USER_SPAN);
  let transcript = new Transcript({ clock });
  const problems: string[] = [];
  const budget = (ex: number) => (ex + 2) * (TRANSFER_MS + POLL_MS) + 2 * OFFLINE_MS + OPERATION_MS;
  let fusLink: FusLink | undefined;
  if (link === "usb-dfu") {
    const opened = await settle(clock, transcript, () =>
      DfuFusLink.open(
        new EmulatedUsbBus([port], clock),
        { vendorId: 0x0483, productId: 0xdf11 },
        { clock, transcript, timeouts: { enumerateMs: 5000 } },
      ),
    );
    const why = breach(opened, budget);
    if (why) problems.push(`open: ${why}`);
    if (opened.kind === "ok") fusLink = opened.value;
  } else {
    fusLink = new UsartFusLink(connectUsart(dev), clock);
    transcript = fusLink.source.transcript;
  }
  if (fusLink) {
    const client = new FusClient(fusLink, {
      pollIntervalMs: POLL_MS,
      offlineTimeoutMs: OFFLINE_MS,
      operationTimeoutMs: OPERATION_MS,
    });
    for (const o of ops) {
      const run: () => Promise<unknown> = {
        state: () => client.getState(),
        start: () => client.startFus(),
        info: () => client.readDeviceInfo(),
        bounds: () => client.readSecureBoundaries(),
        delete: () => client.fwDelete(),
        install: () => client.fwUpgrade(STACK),
        startStack: () => client.startWirelessStack(),
      }[o.kind];
      const outcome = await settle(clock, client.transcript, run);
      const why = breach(outcome, budget);
      if (why) problems.push(`${o.kind}: ${why}`);
    }
    await settle(clock, client.transcript, () => client.close());
  }
  // Whatever the device said, the user's application below the staging area stays.
  const stray = changedOutside(dev.chip.flash, before, FLASH, []);
  if (stray !== undefined)
    problems.push(`flash changed at 0x${stray.toString(16)}, in the user's application`);
  return { problems, exchanges: requests(transcript) };
}
