/**
 * Runs inside the interop guest (Node and the project reach it over a read-only 9p share):
 * our DfuClient over the `usb` package's WebUSB, i.e. libusb on the guest kernel's usbfs,
 * on a board attached over USB/IP. A full update (download, verify by upload), leave, and
 * the wait for the application's re-enumeration — the lab path end to end.
 *
 * Usage: node --import tsx interop/guest-dfu-client.ts IMAGE.bin ADDRESS APP_VID:PID
 * Prints `HIL-CLIENT <what> <ms>` lines; exit code 0 when every step passed.
 */
import { readFile } from "node:fs/promises";
import { DfuClient } from "../harness/clients/dfu/index.js";
import { loadImage } from "../harness/protocol/dfu/index.js";
import { WallClock } from "../harness/transport/clock.js";
import { WebUsbBus } from "../harness/transport/usb.js";

const [file, addressText, appText] = process.argv.slice(2);
if (!file || !addressText || !appText) {
  console.error("usage: guest-dfu-client.ts IMAGE.bin ADDRESS APP_VID:PID");
  process.exit(2);
}
const [appVid, appPid] = appText.split(":").map((h) => Number.parseInt(h, 16)) as [number, number];
const clock = new WallClock();
const bus = new WebUsbBus({ clock });
const t0 = performance.now();
const mark = (what: string) => console.log(`HIL-CLIENT ${what} ${(performance.now() - t0).toFixed(0)}`);

try {
  const image = loadImage(file, new Uint8Array(await readFile(file)), { address: Number(addressText) });
  const client = await DfuClient.open(
    bus,
    { vendorId: 0x0483, productId: 0xdf11 },
    { clock, alt: "Internal Flash", timeouts: { enumerateMs: 20_000 } },
  );
  mark(`connected alt "${client.memoryMap.name}" transfer size ${client.transferSize}`);
  const d0 = performance.now();
  await client.download(image);
  mark(
    `downloaded ${image.segments.reduce((n, s) => n + s.data.length, 0)} bytes in ${(performance.now() - d0).toFixed(0)} ms:`,
  );
  await client.verify(image);
  mark("verified");
  await client.leave(Number(addressText));
  mark("left");
  const app = await client.waitForApplication({ vendorId: appVid, productId: appPid }, 60_000);
  mark(
    `application ${app.vendorId.toString(16).padStart(4, "0")}:${app.productId.toString(16).padStart(4, "0")} "${app.productName}"`,
  );
  process.exit(0);
} catch (e) {
  console.log(`HIL-CLIENT failed: ${(e as Error).stack ?? e}`);
  process.exit(1);
}
