import { expect } from "chai";
import { DfuClient, DfuError } from "../../../harness/clients/dfu/index.js";
import { loadImage } from "../../../harness/protocol/dfu/index.js";
import { Random } from "../../../harness/sim/random.js";
import { poweredBoard, vectorTable } from "../../devices/stm32-dfu/helpers.js";

const ROM = { vendorId: 0x0483, productId: 0xdf11 };

function appImage(dev: Parameters<typeof vectorTable>[0], size: number, seed = 1): Uint8Array {
  const r = new Random(seed);
  const img = Uint8Array.from({ length: size }, () => r.byte());
  img.set(vectorTable(dev));
  return img;
}

describe("clients/dfu DfuClient against the emulated ROM", () => {
  it("downloads, verifies and leaves; the application enumerates and the flash holds the image byte for byte", async () => {
    const b = await poweredBoard("stm32l432kc", { app: { vendorId: 0x20a0, productId: 0x42d4 } });
    const client = await DfuClient.open(b.bus, ROM, { clock: b.clock, alt: "Internal Flash" });
    expect(client.transferSize).to.equal(2048);
    const data = appImage(b.dev, 32 * 1024 + 100);
    const image = loadImage("app.bin", data, { address: 0x08000000 });
    const blocks: number[] = [];
    client.events.on("block", (e) => blocks.push(e.index));
    let getStatus = 0;
    let dnloads = 0;
    client.events.on("status", () => getStatus++);
    await client.download(image);
    dnloads = client.transcript.entries.filter((e) => e.setup?.bRequest === 1).length;
    expect(blocks).to.have.length(17);
    expect(b.dev.chip.flash.peek(0x08000000, data.length)).to.deep.equal(data);
    expect(getStatus / dnloads).to.be.at.most(2.05);
    await client.verify(image);
    await client.leave(0x08000000);
    const err = await client.getStatus().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DfuError).with.property("kind", "stale");
    const app = await client.waitForApplication({ vendorId: 0x20a0, productId: 0x42d4 });
    expect(app.productName).to.be.a("string");
    expect(b.dev.mode.kind).to.equal("application");
  });

  it("errTARGET from the device becomes a DfuError naming status, state, operation and address", async () => {
    const b = await poweredBoard("stm32l432kc");
    const client = await DfuClient.open(b.bus, ROM, { clock: b.clock });
    const err = (await client.setAddress(0x08040000).catch((e: unknown) => e)) as DfuError;
    expect(err).to.be.instanceOf(DfuError);
    expect(err).to.include({
      kind: "status",
      status: "errTARGET",
      state: "dfuERROR",
      operation: "Set Address Pointer",
    });
    expect(err.address).to.equal(0x08040000);
    expect(err.message).to.contain("0x08040000");
    expect(err.message).to.contain("bStatus errTARGET (File is not targeted for use by this device)");
    expect(err.transcriptTail).to.contain("ctrl-in");
  });

  it("refuses an image outside the memory map before any transfer", async () => {
    const b = await poweredBoard("stm32l432kc");
    const client = await DfuClient.open(b.bus, ROM, { clock: b.clock });
    const before = client.transcript.entries.length;
    const err = await client
      .download(loadImage("big.bin", new Uint8Array(4096), { address: 0x0803f800 }))
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DfuError).with.property("kind", "usage");
    expect((err as Error).message).to.contain("0x0803f800+4096 from big.bin is not writable");
    expect(client.transcript.entries.length).to.equal(before);
  });

  it("tolerates the L4 GETSTATUS stall during page erase, bounded", async () => {
    const b = await poweredBoard("stm32l432kc", { quirks: { l4EraseStall: true } });
    const client = await DfuClient.open(b.bus, ROM, { clock: b.clock });
    let retries = 0;
    client.events.on("stall-retry", () => retries++);
    const data = appImage(b.dev, 4096);
    await client.download(loadImage("a.bin", data, { address: 0x08000000 }));
    expect(retries).to.be.at.least(2);
    expect(b.dev.chip.flash.peek(0x08000000, 4096)).to.deep.equal(data);

    const strict = await poweredBoard("stm32l432kc", { quirks: { l4EraseStall: true } });
    const c2 = await DfuClient.open(strict.bus, ROM, { clock: strict.clock, stallRetries: 0 });
    const err = await c2.erasePage(0x08000000).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DfuError).with.property("kind", "stall");
  });

  it("clears a ROM that starts in dfuERROR/errFIRMWARE", async () => {
    const b = await poweredBoard("stm32l432kc", { quirks: { startInError: true } });
    const client = await DfuClient.open(b.bus, ROM, { clock: b.clock });
    expect((await client.getStatus()).status).to.equal(0x0a);
    await client.toIdle();
    expect(client.transcript.entries.map((e) => e.note)).to.include(
      "cleared with CLRSTATUS: bStatus errFIRMWARE (Device's firmware is corrupt; cannot return to run-time operations), bState dfuERROR",
    );
    expect(await client.getCommands()).to.deep.equal([0x00, 0x21, 0x41, 0x92]);
  });

  it("Read Unprotect: waits for the re-enumeration and talks to the new handle", async () => {
    const b = await poweredBoard("stm32l432kc");
    b.dev.chip.readoutProtect();
    await b.dev.systemReset("RDP 1");
    const client = await DfuClient.open(b.bus, ROM, { clock: b.clock });
    const err = await client.upload(0x08000000, 16).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DfuError).with.property("status", "errVENDOR");
    const old = client.device;
    await client.readUnprotect();
    expect(client.device).to.not.equal(old);
    expect(b.dev.chip.rdpLevel).to.equal(0);
    expect([...(await client.upload(0x08000000, 4))]).to.deep.equal([0xff, 0xff, 0xff, 0xff]);
  });

  it("uploads across blocks and a short tail with the address formula", async () => {
    const b = await poweredBoard("stm32wb55");
    const data = appImage(b.dev, 5000, 9);
    b.dev.chip.flash.load(0x08010000, data);
    const client = await DfuClient.open(b.bus, ROM, { clock: b.clock });
    expect(await client.upload(0x08010000, 5000)).to.deep.equal(data);
  });
});
