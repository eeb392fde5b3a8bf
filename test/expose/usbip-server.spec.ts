import { expect } from "chai";
import { serveUsbip, type UsbipServer } from "../../harness/expose/usbip-server.js";
import { DfuState, DfuStatus, decodeStatus } from "../../harness/protocol/dfu/index.js";
import type { SetupPacket } from "../../harness/protocol/usbip/index.js";
import { type ControlReply, UsbipImport, usbipList } from "../../harness/transport/usbip-client.js";
import { type Board, le32, poweredBoard, vectorTable } from "../devices/stm32-dfu/helpers.js";

const DFU_IN = 0xa1;
const DFU_OUT = 0x21;
const setup = (
  bmRequestType: number,
  bRequest: number,
  wValue = 0,
  wIndex = 0,
  wLength = 0,
): SetupPacket => ({
  bmRequestType,
  bRequest,
  wValue,
  wIndex,
  wLength,
});
const getDescriptor = (type: number, index: number, wLength: number) =>
  setup(0x80, 6, (type << 8) | index, type === 3 ? 0x0409 : 0, wLength);

async function status(imp: UsbipImport): Promise<ReturnType<typeof decodeStatus>> {
  const r = await imp.control(setup(DFU_IN, 3, 0, 0, 6));
  expect(r.status).to.equal(0);
  return decodeStatus(r.data);
}

/** What vhci's enumeration and dfu-util's claim do: configuration 1, then the alt setting. */
async function configure(imp: UsbipImport, alt = 0): Promise<void> {
  expect((await imp.control(setup(0x00, 9, 1))).status).to.equal(0);
  expect((await imp.control(setup(0x01, 11, alt, 0))).status).to.equal(0);
}

describe("expose/usbip server (in-repo client, no kernel)", () => {
  let board: Board;
  let server: UsbipServer;
  let lines: string[];
  const opts = () => ({ port: server.port, timeoutMs: 5000 });

  beforeEach(async () => {
    board = await poweredBoard("stm32l432kc");
    await board.bus.waitFor({ vendorId: 0x0483, productId: 0xdf11 }, { timeoutMs: 5000 });
    lines = [];
    server = await serveUsbip(board.port, { port: 0, log: (l) => lines.push(l) });
  });

  afterEach(async () => {
    await server.close();
  });

  it("OP_REQ_DEVLIST lists the ROM as 1-1, full speed, one DFU interface; IMPORT returns the same record", async () => {
    const [d, ...more] = await usbipList(opts());
    expect(more).to.deep.equal([]);
    expect(d).to.include({
      busid: "1-1",
      busnum: 1,
      speed: 2,
      idVendor: 0x0483,
      idProduct: 0xdf11,
      bcdDevice: 0x2200,
    });
    expect(d!.interfaces).to.deep.equal([
      { bInterfaceClass: 0xfe, bInterfaceSubClass: 1, bInterfaceProtocol: 2 },
    ]);
    const imp = await UsbipImport.attach("1-1", opts());
    expect(imp.device).to.include({ busid: "1-1", devnum: d!.devnum, idProduct: 0xdf11 });
    expect(server.imported).to.equal(true);
    // One import at a time; an imported device is not listed; a wrong bus id is refused.
    await expectRefused(UsbipImport.attach("1-1", opts()));
    await expectRefused(UsbipImport.attach("2-1", opts()));
    expect(await usbipList(opts())).to.deep.equal([]);
    await imp.close();
  });

  it("control IN as a host controller delivers it: descriptors, short reads, device qualifier stalled (−32)", async () => {
    const imp = await UsbipImport.attach("1-1", opts());
    const dev = await imp.control(getDescriptor(1, 0, 64));
    expect([dev.status, dev.actualLength]).to.deep.equal([0, 18]); // short read: 18 of 64
    expect([...dev.data.subarray(0, 2), dev.data[8], dev.data[9]]).to.deep.equal([18, 1, 0x83, 0x04]);
    const head = await imp.control(getDescriptor(2, 0, 9));
    const total = head.data[2]! | (head.data[3]! << 8);
    const cfg = await imp.control(getDescriptor(2, 0, 255));
    expect(cfg.actualLength).to.equal(total);
    expect([...cfg.data.subarray(total - 9, total - 7)]).to.deep.equal([9, 0x21]); // DFU functional descriptor last
    const name = await imp.control(getDescriptor(3, 4, 255));
    expect(Buffer.from(name.data.subarray(2)).toString("utf16le")).to.match(
      /^@Internal Flash {2}\/0x08000000/,
    );
    expect((await imp.control(getDescriptor(6, 0, 10))).status).to.equal(-32);
    expect((await imp.control(getDescriptor(3, 99, 255))).status).to.equal(-32);
    expect((await imp.control(setup(0x80, 0, 0, 0, 2))).data).to.deep.equal(Uint8Array.of(1, 0)); // self-powered
    await imp.close();
  });

  it("SET_CONFIGURATION / SET_INTERFACE / GET_*; DfuSe write and upload through the facade match the flash", async () => {
    const imp = await UsbipImport.attach("1-1", opts());
    expect((await imp.control(setup(0x80, 8, 0, 0, 1))).data).to.deep.equal(Uint8Array.of(0));
    await configure(imp, 1);
    expect((await imp.control(setup(0x80, 8, 0, 0, 1))).data).to.deep.equal(Uint8Array.of(1));
    expect((await imp.control(setup(0x81, 10, 0, 0, 1))).data).to.deep.equal(Uint8Array.of(1));
    await configure(imp, 0);
    const data = Uint8Array.from({ length: 2048 }, (_, i) => (i * 7) & 0xff);
    expect((await imp.control(setup(DFU_OUT, 1, 0, 0, 5), le32(0x21, 0x08004000))).status).to.equal(0);
    expect((await status(imp)).state).to.equal(DfuState.dfuDNBUSY);
    expect((await status(imp)).state).to.equal(DfuState.dfuDNLOAD_IDLE);
    const w = await imp.control(setup(DFU_OUT, 1, 2, 0, 2048), data);
    expect([w.status, w.actualLength]).to.deep.equal([0, 2048]);
    expect((await status(imp)).state).to.equal(DfuState.dfuDNBUSY);
    expect((await status(imp)).state).to.equal(DfuState.dfuDNLOAD_IDLE);
    expect(board.dev.chip.flash.peek(0x08004000, 2048)).to.deep.equal(data);
    expect((await imp.control(setup(DFU_OUT, 6))).status).to.equal(0); // ABORT
    const up = await imp.control(setup(DFU_IN, 2, 2, 0, 2048));
    expect(up.data).to.deep.equal(data);
    await imp.close();
  });

  it("a request the DFU state table refuses is a STALL (−32); the device reports errSTALLEDPKT", async () => {
    const imp = await UsbipImport.attach("1-1", opts());
    await configure(imp);
    expect((await imp.control(setup(DFU_IN, 2, 1, 0, 16))).status).to.equal(-32); // UPLOAD block 1
    expect(await status(imp)).to.include({ state: DfuState.dfuERROR, status: DfuStatus.errSTALLEDPKT });
    // Class requests before SET_CONFIGURATION stall too, as on a device in the address state.
    const fresh = await reattach(imp);
    expect((await fresh.control(setup(0x00, 9, 0))).status).to.equal(0);
    expect((await fresh.control(setup(DFU_IN, 3, 0, 0, 6))).status).to.equal(-32);
    expect(lines.join("\n")).to.match(/not claimed.*STALL/);
    await fresh.close();
  });

  it("UNLINK: −ECONNRESET for a queued URB (never answered), 0 for one already completed", async () => {
    const imp = await UsbipImport.attach("1-1", opts());
    await configure(imp);
    const done = imp.submit(getDescriptor(1, 0, 18));
    expect((await done.reply)!.status).to.equal(0);
    expect(await imp.unlink(done.seqnum)).to.equal(0);
    imp.socket.cork();
    const first = imp.submit(setup(DFU_IN, 3, 0, 0, 6));
    const second = imp.submit(setup(DFU_IN, 3, 0, 0, 6));
    const unlinked = imp.unlink(second.seqnum);
    imp.socket.uncork();
    expect(await unlinked).to.equal(-104);
    expect((await first.reply)!.status).to.equal(0);
    // The connection still works, and the unlinked URB's reply never came.
    expect((await imp.control(getDescriptor(1, 0, 18))).status).to.equal(0);
    await imp.close();
    expect(await second.reply).to.equal(undefined);
  });

  it("re-enumeration (DfuSe leave into the application) ends the import after the last GETSTATUS; the app is exported as 1-1", async () => {
    board.dev.chip.flash.load(0x08000000, vectorTable(board.dev));
    const imp = await UsbipImport.attach("1-1", opts());
    await configure(imp);
    expect((await imp.control(setup(DFU_OUT, 1, 0, 0, 5), le32(0x21, 0x08000000))).status).to.equal(0);
    await status(imp);
    await status(imp);
    expect((await imp.control(setup(DFU_OUT, 1, 2, 0, 0))).status).to.equal(0); // leave
    const last: ControlReply = await imp.control(setup(DFU_IN, 3, 0, 0, 6));
    expect([last.status, decodeStatus(last.data).state]).to.deep.equal([0, DfuState.dfuMANIFEST]);
    await imp.closed; // the server closed the import
    expect(server.imported).to.equal(false);
    const app = await board.bus.waitFor({ vendorId: 0x0483, productId: 0x5740 }, { timeoutMs: 5000 });
    expect(app.productName).to.equal("Emulated application");
    const [listed] = await usbipList(opts());
    expect(listed).to.include({ busid: "1-1", idVendor: 0x0483, idProduct: 0x5740 });
    expect(listed!.devnum).to.not.equal(imp.device.devnum);
    const again = await UsbipImport.attach("1-1", opts());
    expect(again.device.idProduct).to.equal(0x5740);
    expect(lines.join("\n"))
      .to.match(/ending the import/)
      .and.match(/exporting 0483:5740/);
    await again.close();
  });

  it("SetPortFeature(PORT_RESET) resets the DFU state; the importer closing resets it too and frees the export", async () => {
    const imp = await UsbipImport.attach("1-1", opts());
    await configure(imp);
    await imp.control(setup(DFU_IN, 2, 1, 0, 16)); // → dfuERROR
    expect((await imp.control(setup(0x23, 3, 4, 1))).status).to.equal(0);
    await configure(imp);
    expect((await status(imp)).state).to.equal(DfuState.dfuIDLE);
    await imp.control(setup(DFU_IN, 2, 1, 0, 16));
    expect(board.port.rom!.state).to.equal(DfuState.dfuERROR);
    await imp.close();
    const [listed] = await waitListed();
    expect(listed!.idProduct).to.equal(0xdf11);
    expect(board.port.rom!.state).to.equal(DfuState.dfuIDLE);
  });

  it("bad packets: one log line, the connection closed, the server and emulator keep running", async () => {
    const imp = await UsbipImport.attach("1-1", opts());
    imp.writeRaw(Uint8Array.from({ length: 48 }, (_, i) => (i === 3 ? 0x42 : 0)));
    await imp.closed;
    expect(lines.join("\n")).to.match(/bad USB\/IP packet: unknown URB command 0x42/);
    const wrongDevid = await UsbipImport.attach("1-1", opts());
    const raw = new Uint8Array(48);
    raw[3] = 1; // CMD_SUBMIT for devid 0
    raw[15] = 1;
    wrongDevid.writeRaw(raw);
    await wrongDevid.closed;
    expect(lines.join("\n")).to.match(/for devid 0x0, imported/);
    const { connect } = await import("node:net");
    const junk = connect({ host: "127.0.0.1", port: server.port });
    junk.end(Uint8Array.of(0x01, 0x00, 0x80, 0x05, 0, 0, 0, 0));
    await new Promise((r) => junk.on("close", r));
    expect(lines.join("\n")).to.match(/unsupported USB\/IP version 0x100/);
    const [listed] = await waitListed();
    expect(listed!.idProduct).to.equal(0xdf11);
  });

  async function reattach(imp: UsbipImport): Promise<UsbipImport> {
    await imp.close();
    await waitListed();
    return UsbipImport.attach("1-1", opts());
  }

  /** The export is free again once the server has seen the importer go. */
  async function waitListed() {
    for (let i = 0; i < 100; i++) {
      const l = await usbipList(opts());
      if (l.length > 0) return l;
      await new Promise((r) => setImmediate(r));
    }
    throw new Error("device not listed again");
  }
});

async function expectRefused(p: Promise<UsbipImport>): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err?.message).to.match(/refused the import of \S+ \(status 1\)/);
}
