import { expect } from "chai";
import {
  DEVICE_RECORD_SIZE,
  decodeDeviceRecord,
  decodeOpHeader,
  decodeRepDevlistBody,
  decodeSetup,
  decodeUrb,
  devid,
  encodeDeviceRecord,
  encodeRepDevlist,
  encodeRepImport,
  encodeReqImport,
  encodeSetup,
  encodeUrb,
  UrbCommand,
  type UsbipDeviceListing,
  UsbipProtocolError,
} from "../../../harness/protocol/usbip/index.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

const DEVICE: UsbipDeviceListing = {
  path: "/sys/devices/x/usb1/1-1",
  busid: "1-1",
  busnum: 1,
  devnum: 2,
  speed: 2,
  idVendor: 0x0483,
  idProduct: 0xdf11,
  bcdDevice: 0x2200,
  bDeviceClass: 0,
  bDeviceSubClass: 0,
  bDeviceProtocol: 0,
  bConfigurationValue: 1,
  bNumConfigurations: 1,
  bNumInterfaces: 1,
  interfaces: [{ bInterfaceClass: 0xfe, bInterfaceSubClass: 1, bInterfaceProtocol: 2 }],
};

describe("protocol/usbip messages (usbip_protocol.rst, big-endian)", () => {
  it("OP_REQ_IMPORT: version 0x0111, code 0x8003, status 0, busid padded to 32 bytes", () => {
    const b = encodeReqImport("1-1");
    expect(b.length).to.equal(40);
    expect(hex(b.subarray(0, 11))).to.equal("0111800300000000312d31");
    expect([...b.subarray(11)].every((x) => x === 0)).to.equal(true);
  });

  it("device record: 312 bytes, fields at their offsets, round trip", () => {
    const b = encodeDeviceRecord(DEVICE);
    expect(b.length).to.equal(DEVICE_RECORD_SIZE);
    // busnum, devnum, speed, idVendor, idProduct, bcdDevice, class/sub/proto, config, #configs, #interfaces
    expect(hex(b.subarray(288))).to.equal("000000010000000200000002" + "0483df112200" + "000000010101");
    const { interfaces: _, ...record } = DEVICE;
    expect(decodeDeviceRecord(b)).to.deep.equal(record);
    expect(devid(DEVICE)).to.equal(0x10002);
  });

  it("OP_REP_DEVLIST: count, records, 4 bytes per interface; decodes only when complete", () => {
    const b = encodeRepDevlist([DEVICE]);
    expect(b.length).to.equal(8 + 4 + 312 + 4);
    expect(decodeOpHeader(b)).to.deep.equal({ version: 0x0111, code: 0x0005, status: 0 });
    expect(hex(b.subarray(b.length - 4))).to.equal("fe010200");
    const body = b.subarray(8);
    expect(decodeRepDevlistBody(body)).to.deep.equal({ devices: [DEVICE], size: body.length });
    expect(decodeRepDevlistBody(body.subarray(0, body.length - 1))).to.equal(undefined);
  });

  it("OP_REP_IMPORT: the record after status 0; status 1 alone", () => {
    expect(encodeRepImport(DEVICE).length).to.equal(8 + 312);
    expect(hex(encodeRepImport(undefined))).to.equal("0111000300000001");
  });

  it("CMD_SUBMIT: 48-byte header, setup in USB order, OUT data after it; waits for all of it", () => {
    const setup = encodeSetup({ bmRequestType: 0x21, bRequest: 1, wValue: 2, wIndex: 0, wLength: 3 });
    expect(hex(setup)).to.equal("2101020000000300");
    const b = encodeUrb({
      command: UrbCommand.CMD_SUBMIT,
      seqnum: 7,
      devid: 0x10002,
      direction: 0,
      ep: 0,
      transferFlags: 0,
      transferBufferLength: 3,
      startFrame: 0,
      numberOfPackets: 0,
      interval: 0,
      setup,
      data: Uint8Array.of(9, 8, 7),
    });
    expect(b.length).to.equal(51);
    expect(hex(b.subarray(0, 20))).to.equal("0000000100000007000100020000000000000000");
    expect(decodeUrb(b.subarray(0, 50))).to.equal(undefined);
    const m = decodeUrb(b)!;
    expect(m.size).to.equal(51);
    expect(m.message.command).to.equal(UrbCommand.CMD_SUBMIT);
    if (m.message.command !== UrbCommand.CMD_SUBMIT) return;
    expect([...m.message.data]).to.deep.equal([9, 8, 7]);
    expect(decodeSetup(m.message.setup)).to.deep.equal({
      bmRequestType: 0x21,
      bRequest: 1,
      wValue: 2,
      wIndex: 0,
      wLength: 3,
    });
  });

  it("RET_SUBMIT: signed status, IN data of actual_length; the receiver names the direction", () => {
    const b = encodeUrb({
      command: UrbCommand.RET_SUBMIT,
      seqnum: 7,
      devid: 0,
      direction: 1,
      ep: 0,
      status: 0,
      actualLength: 2,
      startFrame: 0,
      numberOfPackets: 0,
      errorCount: 0,
      data: Uint8Array.of(1, 2),
    });
    expect(hex(b.subarray(0, 28))).to.equal(`00000003000000070000000000000001000000000000000000000002`);
    const stall = encodeUrb({
      command: UrbCommand.RET_SUBMIT,
      seqnum: 8,
      devid: 0,
      direction: 0,
      ep: 0,
      status: -32,
      actualLength: 0,
      startFrame: 0,
      numberOfPackets: 0,
      errorCount: 0,
      data: new Uint8Array(0),
    });
    expect(hex(stall.subarray(20, 24))).to.equal("ffffffe0");
    const m = decodeUrb(b, () => 1)!;
    expect(m.size).to.equal(50);
    expect(decodeUrb(stall, () => 1)!.message).to.include({ status: -32, actualLength: 0 });
  });

  it("CMD_UNLINK / RET_UNLINK: 48 bytes; unknown commands are protocol errors", () => {
    const u = encodeUrb({
      command: UrbCommand.CMD_UNLINK,
      seqnum: 9,
      devid: 1,
      direction: 0,
      ep: 0,
      unlinkSeqnum: 7,
    });
    expect(u.length).to.equal(48);
    expect(decodeUrb(u)!.message).to.include({ unlinkSeqnum: 7 });
    const r = encodeUrb({
      command: UrbCommand.RET_UNLINK,
      seqnum: 9,
      devid: 0,
      direction: 0,
      ep: 0,
      status: -104,
    });
    expect(decodeUrb(r)!.message).to.include({ status: -104 });
    const bad = new Uint8Array(48);
    bad[3] = 0x99;
    expect(() => decodeUrb(bad)).to.throw(UsbipProtocolError, /unknown URB command 0x99/);
  });
});
