import { expect } from "chai";
import sinon from "sinon";
import { DfuClient, DfuError } from "../../../harness/clients/dfu/index.js";
import { encodeFunctionalDescriptor, encodeStatus, loadImage } from "../../../harness/protocol/dfu/index.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";
import type { UsbBus } from "../../../harness/transport/usb.js";

/**
 * The real-board path: DfuClient over a sinon fake of WebUSB's USBDevice (what the `usb`
 * package hands out on a lab rig), scripted like an STM32 ROM.
 */
const FUNCTIONAL = encodeFunctionalDescriptor({
  bmAttributes: 0x0b,
  detachTimeoutMs: 255,
  transferSize: 2048,
  bcdDfuVersion: 0x011a,
});

function configDescriptor(): Uint8Array {
  const cfg = Uint8Array.of(9, 2, 27, 0, 1, 1, 0, 0xc0, 50, 9, 4, 0, 0, 0, 0xfe, 1, 2, 4);
  const out = new Uint8Array(cfg.length + FUNCTIONAL.length);
  out.set(cfg);
  out.set(FUNCTIONAL, cfg.length);
  return out;
}

interface FakeOptions {
  /** Reject the Nth data DNLOAD (1-based) with a WebUSB NetworkError. */
  disconnectAtDataBlock?: number;
  /** GETSTATUS never answers from this call on (1-based). */
  hangAtGetStatus?: number;
}

function fakeRom(opts: FakeOptions = {}) {
  let state = 2; // dfuIDLE
  let pendingBusy = false;
  let dataBlocks = 0;
  let getStatusCalls = 0;
  const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const device = {
    vendorId: 0x0483,
    productId: 0xdf11,
    serialNumber: "FAKE00000001",
    opened: false,
    configuration: {
      configurationValue: 1,
      interfaces: [
        {
          interfaceNumber: 0,
          claimed: false,
          alternates: [
            {
              alternateSetting: 0,
              interfaceClass: 0xfe,
              interfaceSubclass: 1,
              interfaceProtocol: 2,
              interfaceName: "@Internal Flash  /0x08000000/0128*0002Kg",
              endpoints: [],
            },
          ],
        },
      ],
    },
    open: sinon.stub().resolves(),
    close: sinon.stub().resolves(),
    selectConfiguration: sinon.stub().resolves(),
    claimInterface: sinon.stub().resolves(),
    selectAlternateInterface: sinon.stub().resolves(),
    controlTransferIn: sinon.stub().callsFake(async (setup: USBControlTransferParameters, length: number) => {
      if (setup.requestType === "standard")
        return { status: "ok", data: view(configDescriptor().slice(0, length)) };
      if (setup.request === 3) {
        getStatusCalls++;
        if (opts.hangAtGetStatus !== undefined && getStatusCalls >= opts.hangAtGetStatus)
          return new Promise(() => {});
        let reply: Uint8Array;
        if (state === 3 && pendingBusy) {
          pendingBusy = false;
          reply = encodeStatus({ status: 0, pollTimeoutMs: 22, state: 4, iString: 0 });
        } else {
          if (state === 3) state = 5;
          reply = encodeStatus({ status: 0, pollTimeoutMs: 0, state: state as 2, iString: 0 });
        }
        return { status: "ok", data: view(reply) };
      }
      return { status: "stall" };
    }),
    controlTransferOut: sinon
      .stub()
      .callsFake(async (setup: USBControlTransferParameters, data?: Uint8Array) => {
        if (setup.request === 1 && data && data.length > 0) {
          if (setup.value >= 2 && ++dataBlocks === opts.disconnectAtDataBlock)
            throw new DOMException("A transfer error has occurred.", "NetworkError");
          state = 3;
          pendingBusy = true;
        } else if (setup.request === 6 || setup.request === 4) {
          state = 2;
        }
        return { status: "ok", bytesWritten: data?.length ?? 0 };
      }),
  };
  return device;
}

function busWith(device: unknown): UsbBus {
  return {
    list: sinon.stub().resolves([device]),
    find: sinon.stub().resolves(device),
    waitFor: sinon.stub().resolves(device),
  } as unknown as UsbBus;
}

const ROM = { vendorId: 0x0483, productId: 0xdf11 };

describe("clients/dfu DfuClient over a sinon fake USBDevice (the lab path)", () => {
  it("speaks the documented requests: bmRequestType class/interface, DfuSe command bytes, bwPollTimeout slept on the clock", async () => {
    const fake = fakeRom();
    const clock = new VirtualClock();
    const sleep = sinon.spy(clock, "sleep");
    const client = await DfuClient.open(busWith(fake), ROM, { clock });
    await client.erasePage(0x08000800);
    const erase = fake.controlTransferOut.getCalls().find((c) => c.args[0].request === 1)!;
    expect(erase.args[0]).to.deep.include({
      requestType: "class",
      recipient: "interface",
      value: 0,
      index: 0,
    });
    expect([...(erase.args[1] as Uint8Array)]).to.deep.equal([0x41, 0x00, 0x08, 0x00, 0x08]);
    expect(sleep.getCalls().some((c) => c.args[0] === 22)).to.equal(true);
    // The `usb` package's WebUSB throws on a missing data argument: every OUT carries a buffer,
    // an empty one for ABORT/CLRSTATUS.
    await client.abort();
    await client.clearStatus();
    const outs = fake.controlTransferOut.getCalls();
    expect(outs.filter((c) => c.args[0].request === 6 || c.args[0].request === 4)).to.have.length.at.least(2);
    expect(
      outs.every((c) => c.args[1] instanceof Uint8Array),
      "every OUT has a data buffer",
    ).to.equal(true);
  });

  it("a disconnect mid-download is a DfuError 'disconnected' naming the block, address and transcript; the handle goes stale", async () => {
    const fake = fakeRom({ disconnectAtDataBlock: 3 });
    const clock = new VirtualClock();
    const client = await DfuClient.open(busWith(fake), ROM, { clock });
    const image = loadImage("app.bin", new Uint8Array(5 * 2048).fill(0x11), { address: 0x08000000 });
    const blocks: number[] = [];
    client.events.on("block", (e) => blocks.push(e.index));
    const err = (await client.download(image).catch((e: unknown) => e)) as DfuError;
    expect(err).to.be.instanceOf(DfuError);
    expect(err).to.include({ kind: "disconnected", operation: "DNLOAD block 4", address: 0x08001000 });
    expect(err.transcriptTail).to.contain("ctrl-out");
    expect(blocks).to.deep.equal([1, 2]);
    const again = await client.getStatus().catch((e: unknown) => e);
    expect(again).to.be.instanceOf(DfuError).with.property("kind", "stale");
  });

  it("a GETSTATUS that never answers times out on the clock (5000 ms)", async () => {
    const fake = fakeRom({ hangAtGetStatus: 2 });
    const clock = new VirtualClock();
    const client = await DfuClient.open(busWith(fake), ROM, { clock });
    const t0 = clock.now();
    const err = await client.setAddress(0x08000000).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DfuError).with.property("kind", "timeout");
    expect(clock.now() - t0).to.be.within(5000, 5100);
  });
});
