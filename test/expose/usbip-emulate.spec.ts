import { expect } from "chai";
import { parseUsbipAddress } from "../../harness/expose/usbip-emulate.js";
import { startUsbipEmulator } from "../../harness/expose/usbip-process.js";
import { UsbipImport, usbipList } from "../../harness/transport/usbip-client.js";

describe("hil emulate --usbip", () => {
  it("parses [HOST:]PORT, loopback by default", () => {
    expect(parseUsbipAddress("3240")).to.deep.equal({ host: "127.0.0.1", port: 3240 });
    expect(parseUsbipAddress("0.0.0.0:3241")).to.deep.equal({ host: "0.0.0.0", port: 3241 });
    expect(parseUsbipAddress("[::1]:3240")).to.deep.equal({ host: "::1", port: 3240 });
    expect(() => parseUsbipAddress("host:99999")).to.throw(RangeError, /\[HOST:\]PORT/);
    expect(() => parseUsbipAddress("")).to.throw(RangeError);
  });

  it("prints `ready usbip HOST:PORT 1-1`, exports the WB55 ROM, serves descriptors, saves --state on SIGTERM", async function () {
    this.timeout(30_000);
    const { mkdtemp, rm, stat } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = await mkdtemp(join(tmpdir(), "hil-usbip-"));
    const emu = await startUsbipEmulator("stm32wb55", ["--state", dir]);
    try {
      expect([emu.host, emu.busid]).to.deep.equal(["127.0.0.1", "1-1"]);
      // `ready usbip` waits for the ROM's USB connect time: the device is listed at once.
      const listed = await usbipList({ port: emu.port });
      expect(listed[0]).to.include({ busid: "1-1", idVendor: 0x0483, idProduct: 0xdf11, speed: 2 });
      const imp = await UsbipImport.attach("1-1", { port: emu.port });
      const d = await imp.control({
        bmRequestType: 0x80,
        bRequest: 6,
        wValue: 0x0100,
        wIndex: 0,
        wLength: 18,
      });
      expect([d.status, d.actualLength]).to.deep.equal([0, 18]);
      await imp.close();
      expect(emu.log()).to.match(/imported by 127\.0\.0\.1/);
    } finally {
      expect((await emu.stop()).exitCode).to.equal(0);
    }
    expect((await stat(join(dir, "flash.bin"))).size).to.equal(1024 * 1024);
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses a bad --usbip address as a usage error", async () => {
    const err = await startUsbipEmulator("stm32l432kc", [], {
      listen: "nowhere:x",
      startTimeoutMs: 10_000,
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.match(/--usbip: expected \[HOST:\]PORT/);
  });
});
