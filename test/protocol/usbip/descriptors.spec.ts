import { expect } from "chai";
import fc from "fast-check";
import {
  configurationDescriptor,
  deviceDescriptor,
  romIdentity,
  stringDescriptor,
} from "../../../harness/devices/stm32/dfu/descriptors.js";
import { profileForFamily } from "../../../harness/devices/stm32/profiles.js";
import {
  type AlternateDescriptor,
  decodeConfigurationDescriptor,
  decodeDeviceDescriptor,
  decodeLanguageIds,
  decodeStringDescriptor,
  UsbipProtocolError,
} from "../../../harness/protocol/usbip/index.js";

/** A configuration descriptor as USB 2.0 §9.6.3 lays it out, from the test's own model. */
function encodeConfiguration(
  value: number,
  interfaces: { number: number; alternates: AlternateDescriptor[] }[],
  extra: Uint8Array,
): Uint8Array {
  const parts: number[] = [];
  for (const i of interfaces)
    for (const a of i.alternates) {
      parts.push(
        9,
        4,
        i.number,
        a.bAlternateSetting,
        a.endpoints.length,
        a.bInterfaceClass,
        a.bInterfaceSubClass,
        a.bInterfaceProtocol,
        a.iInterface,
      );
      parts.push(...extra);
      for (const e of a.endpoints)
        parts.push(
          7,
          5,
          e.bEndpointAddress,
          e.bmAttributes,
          e.wMaxPacketSize & 0xff,
          e.wMaxPacketSize >> 8,
          1,
        );
    }
  const total = 9 + parts.length;
  return Uint8Array.from([9, 2, total & 0xff, total >> 8, interfaces.length, value, 0, 0x80, 50, ...parts]);
}

const byte = fc.integer({ min: 0, max: 255 });
const alternate = (setting: number) =>
  fc.record({
    bAlternateSetting: fc.constant(setting),
    bInterfaceClass: byte,
    bInterfaceSubClass: byte,
    bInterfaceProtocol: byte,
    iInterface: byte,
    endpoints: fc.array(
      fc.record({
        bEndpointAddress: byte,
        bmAttributes: fc.integer({ min: 1, max: 3 }),
        wMaxPacketSize: fc.integer({ min: 0, max: 0xffff }),
      }),
      { maxLength: 3 },
    ),
  });
const interfaceList = fc
  .uniqueArray(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 3 })
  .chain((numbers) =>
    fc.tuple(
      ...numbers.map((n) =>
        fc
          .integer({ min: 1, max: 4 })
          .chain((k) => fc.tuple(...Array.from({ length: k }, (_, s) => alternate(s))))
          .map((alternates) => ({ number: n, alternates })),
      ),
    ),
  );

describe("protocol/usbip descriptors (USB 2.0 §9.6, as an importer reads them)", () => {
  it("the emulated ROM's own descriptors decode to its identity: ids, four DFU alt settings, strings", () => {
    const id = romIdentity(profileForFamily("stm32l432"), "206A36833542");
    const device = decodeDeviceDescriptor(deviceDescriptor(id));
    expect(device).to.include({
      idVendor: 0x0483,
      idProduct: 0xdf11,
      bcdDevice: 0x2200,
      bNumConfigurations: 1,
    });
    const config = decodeConfigurationDescriptor(configurationDescriptor(id));
    expect(config.bConfigurationValue).to.equal(1);
    expect(config.interfaces).to.have.length(1);
    expect(
      config.interfaces[0]!.alternates.map((a) => [a.bAlternateSetting, a.bInterfaceClass, a.iInterface]),
    ).to.deep.equal([
      [0, 0xfe, 4],
      [1, 0xfe, 5],
      [2, 0xfe, 6],
      [3, 0xfe, 7],
    ]);
    expect(decodeStringDescriptor(stringDescriptor(id, device.iSerialNumber)!)).to.equal("206A36833542");
    expect(decodeStringDescriptor(stringDescriptor(id, 4)!)).to.equal(id.alternates[0]);
    expect(decodeLanguageIds(stringDescriptor(id, 0)!)).to.deep.equal([0x0409]);
  });

  it("property: configuration descriptors round-trip; class-specific descriptors between them are skipped", () => {
    fc.assert(
      fc.property(
        byte,
        interfaceList,
        fc.constantFrom(new Uint8Array(0), Uint8Array.of(9, 0x21, 0x0b, 0xff, 0, 0, 8, 0x1a, 0x01)),
        (value, interfaces, extra) => {
          const decoded = decodeConfigurationDescriptor(encodeConfiguration(value, interfaces, extra));
          expect(decoded.bConfigurationValue).to.equal(value);
          expect(decoded.interfaces).to.deep.equal(
            interfaces.map((i) => ({ bInterfaceNumber: i.number, alternates: i.alternates })),
          );
        },
      ),
    );
  });

  it("property: string descriptors round-trip any UTF-16 text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 126 }), (text) => {
        const units = Array.from({ length: text.length }, (_, i) => text.charCodeAt(i));
        if (2 + 2 * units.length > 255) return;
        const b = Uint8Array.from([2 + 2 * units.length, 3, ...units.flatMap((u) => [u & 0xff, u >> 8])]);
        expect(decodeStringDescriptor(b)).to.equal(text);
      }),
    );
  });

  it("property: any bytes either decode or throw a UsbipProtocolError naming the descriptor and field", () => {
    const named =
      /(device|configuration|interface|endpoint|string) descriptor.*: (bLength|bDescriptorType|wTotalLength|need|endpoint descriptor)/;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.boolean(), (bytes, asConfig) => {
        const b =
          asConfig && bytes.length >= 4
            ? Uint8Array.from([9, 2, bytes.length, 0, ...bytes.subarray(4)])
            : bytes;
        for (const decode of [
          decodeDeviceDescriptor,
          decodeConfigurationDescriptor,
          decodeStringDescriptor,
        ]) {
          try {
            decode(b);
          } catch (e) {
            expect(e).to.be.instanceOf(UsbipProtocolError);
            expect((e as Error).message).to.match(named);
          }
        }
      }),
    );
  });

  it("bad descriptors: the field and offset are named", () => {
    expect(() => decodeDeviceDescriptor(Uint8Array.of(18, 2, ...new Uint8Array(16)))).to.throw(
      UsbipProtocolError,
      "device descriptor: bDescriptorType 2 at offset 0, expected 1",
    );
    const config = Uint8Array.from([9, 2, 20, 0, 1, 1, 0, 0x80, 50, 9, 4, 0, 0, 0, 0xfe, 1, 2, 4, 0, 0]);
    config[18] = 0;
    expect(() => decodeConfigurationDescriptor(config.subarray(0, 18))).to.throw(
      UsbipProtocolError,
      "configuration descriptor: wTotalLength 20, got 18 bytes",
    );
    expect(() =>
      decodeConfigurationDescriptor(
        Uint8Array.from([9, 2, 16, 0, 1, 1, 0, 0x80, 50, 7, 5, 0x81, 2, 64, 0, 0]),
      ),
    ).to.throw(UsbipProtocolError, "endpoint descriptor at offset 9 before any interface");
    expect(() => decodeStringDescriptor(Uint8Array.of(5, 3, 0x41, 0, 0))).to.throw(
      UsbipProtocolError,
      "bLength 5 is odd",
    );
  });
});
