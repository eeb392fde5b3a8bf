import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DfuClient } from "../harness/clients/dfu/index.js";
import { Stm32Device } from "../harness/devices/stm32/device.js";
import { attachUsbDfu, EmulatedUsbBus } from "../harness/devices/stm32/dfu/index.js";
import { startUsbipEmulator } from "../harness/expose/usbip-process.js";
import { serveUsbip } from "../harness/expose/usbip-server.js";
import { loadRigFileSync } from "../harness/rig/load.js";
import { buildRig } from "../harness/rig/rig.js";
import { Random } from "../harness/sim/random.js";
import { VirtualClock } from "../harness/sim/virtual-clock.js";
import { WallClock } from "../harness/transport/clock.js";
import { UsbipImport } from "../harness/transport/usbip-client.js";
import { UsbipBus } from "../harness/transport/usbip-device.js";
import { guestUnavailable, ROOT, RUN_PRELUDE, runGuest } from "../interop/guest.js";
import { asFile, connect, startInBootloader } from "../suites/stm32-dfu/fixture.js";
import type { BenchResult } from "./harness.js";

const KB = 1024;
const SIZE = 256 * KB;
const GET_DEVICE_DESCRIPTOR = { bmRequestType: 0x80, bRequest: 6, wValue: 0x0100, wIndex: 0, wLength: 18 };

/**
 * USB/IP: (1) the per-transfer cost the server adds, our in-repo client on loopback against
 * the facade called in-process (GET_DESCRIPTOR, median of 500); (2) a 256 KB DfuSe download
 * by dfu-util inside the QEMU guest over USB/IP (`hil emulate --usbip`, wall clock, as the
 * board's own timing table paces it) beside the device time of the same update in-process;
 * the overhead per transfer is what the guest path adds over the device time, spread over
 * the URBs the server saw. Our DfuClient in the guest is in `npm run interop`. (3) The same
 * 256 KB update by our DfuClient through the user-space USB/IP import (UsbipBus) of
 * `hil emulate --usbip` on loopback, wall clock, beside its in-process device time (goal ≤ 3):
 * the emulator paces it by the same timing table, so the difference is what USB/IP adds,
 * spread over the transfers.
 */
export async function usbipBench(): Promise<BenchResult> {
  const name = "usbip";
  const figures: Record<string, number> = {};
  const units: Record<string, string> = {};
  const ratios: Record<string, number> = {};

  // (1) Per-transfer overhead of the server (no kernel).
  const clock = new VirtualClock();
  const chip = new Stm32Device({ clock, seed: 7, profile: "stm32l432kc" });
  const port = attachUsbDfu(chip);
  await chip.power.on();
  const device = await new EmulatedUsbBus([port], clock).waitFor(
    { vendorId: 0x0483, productId: 0xdf11 },
    { timeoutMs: 5000 },
  );
  await device.open();
  const setup = {
    requestType: "standard",
    recipient: "device",
    request: 6,
    value: 0x0100,
    index: 0,
  } as const;
  const inProcessUs = await medianUs(() => device.controlTransferIn(setup, 18));
  await device.close();
  const server = await serveUsbip(port, { port: 0 });
  const imp = await UsbipImport.attach("1-1", { port: server.port });
  const usbipUs = await medianUs(() => imp.control(GET_DEVICE_DESCRIPTOR));
  await imp.close();
  await server.close();
  figures.transferInProcessUs = inProcessUs;
  figures.transferUsbipUs = usbipUs;
  units.transferInProcessUs = "µs per control transfer, facade in-process (virtual clock)";
  units.transferUsbipUs = "µs per control transfer, in-repo USB/IP client on loopback";
  figures.usbipOverheadPerTransferUs = usbipUs - inProcessUs;
  units.usbipOverheadPerTransferUs = "µs the server and TCP add per control transfer";
  ratios.usbipToInProcessTransfer = usbipUs / inProcessUs;

  // In-process device time of the same 256 KB update (the emulator's timing table).
  const path = join(ROOT, "rigs", "emulated.yaml");
  const l432 = buildRig(loadRigFileSync(path), path).boards.find((b) => b.family === "stm32l432")!;
  const r = new Random(11);
  const image = Uint8Array.from({ length: SIZE }, () => r.byte());
  await startInBootloader(l432);
  const client = await connect(l432);
  const d0 = l432.clock.now();
  await client.download(asFile("bin", 0x0800_0000, image));
  const deviceMs = l432.clock.now() - d0;
  figures.inProcessDeviceMs = deviceMs;
  units.inProcessDeviceMs = "ms device time, DfuClient 256 KB in-process";

  // (3) DfuClient through the user-space import, on loopback.
  const loop = await startUsbipEmulator("stm32l432kc", [], { log: false });
  let usbipMs: number;
  try {
    const bus = new UsbipBus({ host: loop.host, port: loop.port, busid: loop.busid });
    const remote = await DfuClient.open(
      bus,
      { vendorId: 0x0483, productId: 0xdf11 },
      { clock: new WallClock() },
    );
    const t0 = performance.now();
    await remote.download(asFile("bin", 0x0800_0000, image));
    usbipMs = performance.now() - t0;
    await remote.close();
  } finally {
    await loop.stop();
  }
  figures.usbipDfuClientMs = usbipMs;
  units.usbipDfuClientMs =
    "ms wall, DfuClient 256 KB download through the user-space USB/IP import on loopback";
  ratios.usbipDfuClientToInProcess = usbipMs / deviceMs;
  // Every URB of the import (enumeration and the download), as the server counted them.
  const urbsSeen = [...loop.log().matchAll(/ended after (\d+) URBs/g)].reduce((n, m) => n + Number(m[1]), 0);
  if (urbsSeen > 0) {
    figures.usbipUrbs = urbsSeen;
    units.usbipUrbs = "URBs of that import (descriptor reads included)";
    figures.usbipOverheadPerRoundTripUs = (Math.max(0, usbipMs - deviceMs) / urbsSeen) * 1000;
    units.usbipOverheadPerRoundTripUs = "µs per URB round trip the USB/IP path adds over device time";
  }

  // (2) dfu-util in the guest.
  const skip = await guestUnavailable();
  if (skip) {
    console.error(`${name}: guest part skipped (${skip})`);
    return { name, figures, units, ratios };
  }
  const state = await mkdtemp(join(tmpdir(), "hil-bench-usbip-"));
  const emu = await startUsbipEmulator("stm32l432kc", ["--state", state], { log: false });
  try {
    const run = await runGuest({
      script: `${RUN_PRELUDE}
HIL_PORT=${emu.port}
step attach attach
step wait wait_usb 0483:df11
step dnload sh -c 'a=$(cut -d" " -f1 /proc/uptime); dfu-util -a 0 -s 0x08000000 -D /data/image.bin >/dev/null 2>&1; rc=$?; b=$(cut -d" " -f1 /proc/uptime); echo "elapsed $a $b"; exit $rc'
`,
      files: { "data/image.bin": image },
      logFile: join(ROOT, "reports", "interop", "bench-usbip.console.log"),
      timeoutMs: 180_000,
    });
    const step = run.steps.get("dnload");
    const m = step?.rc === 0 ? /elapsed ([\d.]+) ([\d.]+)/.exec(step.output) : null;
    if (!m) throw new Error(`dfu-util download in the guest failed; see ${run.logFile}`);
    const guestMs = (Number(m[2]) - Number(m[1])) * 1000;
    const urbs = [...emu.log().matchAll(/ended after (\d+) URBs/g)].map((x) => Number(x[1]));
    figures.guestDfuUtilMs = guestMs;
    units.guestDfuUtilMs = "ms wall, dfu-util 256 KB download in the QEMU guest over USB/IP";
    figures.guestKBps = SIZE / KB / (guestMs / 1000);
    units.guestKBps = "KB/s, dfu-util in the guest";
    ratios.guestDfuUtilToDeviceTime = guestMs / deviceMs;
    const total = urbs.reduce((a, b) => a + b, 0);
    if (total > 0) {
      figures.guestUrbs = total;
      units.guestUrbs = "URBs the server answered for the guest run (enumeration included)";
      figures.guestOverheadPerUrbMs = Math.max(0, guestMs - deviceMs) / total;
      units.guestOverheadPerUrbMs =
        "ms per URB the guest path adds over device time (TCG guest, dfu-util's poll sleeps, slirp, server)";
    }
  } finally {
    await emu.stop();
    await rm(state, { recursive: true, force: true });
  }
  return { name, figures, units, ratios };
}

async function medianUs(fn: () => Promise<unknown>, runs = 500): Promise<number> {
  for (let i = 0; i < 20; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    samples.push((performance.now() - t0) * 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}
