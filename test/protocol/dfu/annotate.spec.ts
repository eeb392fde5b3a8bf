import { expect } from "chai";
import { DfuClient } from "../../../harness/clients/dfu/index.js";
import { Stm32Device } from "../../../harness/devices/stm32/device.js";
import { attachUsbDfu, EmulatedUsbBus } from "../../../harness/devices/stm32/dfu/index.js";
import { annotateDfu, loadImage } from "../../../harness/protocol/dfu/index.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";
import { Transcript } from "../../../harness/transport/transcript.js";

const OUT = { bmRequestType: 0x21, wIndex: 0 };
const IN = { bmRequestType: 0xa1, wIndex: 0 };

describe("protocol/dfu: transcript in DFU terms", () => {
  it("reads a DfuSe download as the report shows it, replies chained onto their request", async () => {
    const clock = new VirtualClock();
    const dev = new Stm32Device({ clock, seed: 1, profile: "stm32l432kc", options: { boot: "bootloader" } });
    const port = attachUsbDfu(dev);
    await dev.power.on();
    const client = await DfuClient.open(
      new EmulatedUsbBus([port], clock),
      { vendorId: 0x0483, productId: 0xdf11 },
      { clock, timeouts: { enumerateMs: 5000 } },
    );
    const mark = client.transcript.entries.length;
    await client.download(loadImage("a.bin", new Uint8Array(2048).fill(7), { address: 0x0800_0000 }));
    const lines = client.transcript
      .renderAnnotated()
      .split("\n")
      .filter(Boolean)
      .map((l) => l.replace(/^ *[\d.]+ ms /, ""));
    expect(lines.slice(-3)).to.deep.equal([
      "DfuSe Erase page 0x08000000 → GETSTATUS dfuDNBUSY poll=22ms → GETSTATUS dfuDNLOAD-IDLE",
      "DfuSe Set Address Pointer 0x08000000 → GETSTATUS dfuDNBUSY → GETSTATUS dfuDNLOAD-IDLE",
      "DNLOAD blk=2 len=2048 → GETSTATUS dfuDNBUSY poll=21ms → GETSTATUS dfuDNLOAD-IDLE",
    ]);
    // The full render keeps the hex dump and adds the reading to each header.
    expect(client.transcript.render()).to.include("wLength=2048 -> ok, 2048 bytes [DNLOAD blk=2 len=2048]");
    expect(client.transcript.entries.length).to.be.above(mark);
  });

  it("names stalls, error statuses, leave, other states and non-DFU requests", () => {
    const t = new Transcript();
    t.annotator = annotateDfu;
    t.record({
      dir: "ctrl-in",
      setup: { bmRequestType: 0x80, bRequest: 0x06, wValue: 0x0200, wIndex: 0, wLength: 9 },
      status: "ok",
      bytes: new Uint8Array(9),
    });
    t.record({
      dir: "ctrl-out",
      setup: { ...OUT, bRequest: 1, wValue: 0, wLength: 5 },
      status: "ok",
      bytes: Uint8Array.of(0x21, 0, 0, 4, 8),
    });
    t.record({
      dir: "ctrl-in",
      setup: { ...IN, bRequest: 3, wValue: 0, wLength: 6 },
      status: "ok",
      bytes: Uint8Array.of(1, 0, 0, 0, 10, 0),
    });
    t.record({ dir: "ctrl-out", setup: { ...OUT, bRequest: 4, wValue: 0, wLength: 0 }, status: "ok" });
    t.record({
      dir: "ctrl-out",
      setup: { ...OUT, bRequest: 1, wValue: 0, wLength: 0 },
      status: "ok",
      bytes: new Uint8Array(0),
    });
    t.record({ dir: "ctrl-in", setup: { ...IN, bRequest: 3, wValue: 0, wLength: 6 }, status: "stall" });
    t.record({
      dir: "ctrl-in",
      setup: { ...IN, bRequest: 5, wValue: 0, wLength: 1 },
      status: "ok",
      bytes: Uint8Array.of(8),
    });
    const lines = t
      .renderAnnotated()
      .split("\n")
      .filter(Boolean)
      .map((l) => l.replace(/^ *[\d.]+ ms /, ""));
    expect(lines[0]).to.match(/^<< ctrl-in bmRequestType=0x80 bRequest=0x06/); // GET_DESCRIPTOR: as recorded
    expect(lines.slice(1)).to.deep.equal([
      "DfuSe Set Address Pointer 0x08040000 → GETSTATUS dfuERROR errTARGET",
      "CLRSTATUS",
      "DNLOAD zero-length (leave) → GETSTATUS STALL → GETSTATE dfuMANIFEST-WAIT-RESET",
    ]);
    expect(t.renderAnnotated({ tail: 1 })).to.match(/^\(last 1 of 4 lines\)\n.*DNLOAD zero-length/);
  });
});
