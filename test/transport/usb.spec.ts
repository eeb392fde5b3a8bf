import { expect } from "chai";
import sinon from "sinon";
import { TimeoutError, WallClock } from "../../harness/transport/clock.js";
import { Transcript } from "../../harness/transport/transcript.js";
import {
  describeFilter,
  matchesFilter,
  recordUsb,
  sameEnumeration,
  setupPacket,
  type UsbDevice,
  usbPortPath,
  WebUsbBus,
  type WebUsbLike,
} from "../../harness/transport/usb.js";
import { ManualClock, rejectionOf } from "./helpers.js";

const ST = 0x0483;
const DFU = 0xdf11;

/** A plain-object stand-in for a node-usb device: descriptor fields plus bus/address. */
function fakeDevice(fields: {
  productId: number;
  serialNumber?: string;
  bus?: string;
  address?: number;
  /** node-usb's port chain (`[2, 3]` = root port 2, hub port 3). */
  ports?: number[];
}): UsbDevice {
  return { vendorId: ST, serialNumber: null, ...fields } as unknown as UsbDevice;
}

/** The WebUSB surface the bus uses: getDevices() over a mutable list, and real connect/disconnect events. */
class FakeWebUsb extends EventTarget implements WebUsbLike {
  devices: UsbDevice[] = [];
  readonly getDevices = sinon.stub<[], Promise<USBDevice[]>>().callsFake(async () => [...this.devices]);

  plug(device: UsbDevice): void {
    this.devices.push(device);
    this.dispatchEvent(Object.assign(new Event("connect"), { device }));
  }

  unplug(device: UsbDevice): void {
    this.devices = this.devices.filter((d) => d !== device);
    this.dispatchEvent(Object.assign(new Event("disconnect"), { device }));
  }

  /** Successive getDevices() answers; the last one repeats. */
  answers(...lists: UsbDevice[][]): void {
    let call = 0;
    this.getDevices.callsFake(async () => lists[Math.min(call++, lists.length - 1)]!);
  }
}

function busWith(webusb: FakeWebUsb) {
  return new WebUsbBus({ webusb, clock: new WallClock(), pollMs: 5 });
}

describe("transport/usb", () => {
  afterEach(() => sinon.restore());

  describe("WebUsbBus", () => {
    const stlink = fakeDevice({ productId: 0x374b, serialNumber: "066F" });
    const boardA = fakeDevice({ productId: DFU, serialNumber: "A" });
    const boardB = fakeDevice({ productId: DFU, serialNumber: "B" });

    it("lists and finds devices by VID, PID and serial number", async () => {
      const webusb = new FakeWebUsb();
      webusb.devices = [stlink, boardA, boardB];
      const bus = busWith(webusb);
      expect(await bus.list()).to.have.length(3);
      expect(await bus.list({ vendorId: ST, productId: DFU })).to.deep.equal([boardA, boardB]);
      expect(await bus.find({ vendorId: ST, productId: DFU, serialNumber: "B" })).to.equal(boardB);
      expect(await bus.find({ vendorId: ST })).to.equal(stlink);
      expect(await bus.find({ vendorId: 0x1209 })).to.equal(undefined);
    });

    it("waitFor() resolves at once with a device already present", async () => {
      const webusb = new FakeWebUsb();
      webusb.devices = [boardA];
      const add = sinon.spy(webusb, "addEventListener");
      expect(await busWith(webusb).waitFor({ vendorId: ST, productId: DFU }, { timeoutMs: 100 })).to.equal(
        boardA,
      );
      expect(add.called, "no hotplug subscription needed").to.equal(false);
    });

    it("waitFor() polls until the device enumerates", async () => {
      const webusb = new FakeWebUsb();
      webusb.answers([], [], [], [boardA]);
      expect(await busWith(webusb).waitFor({ vendorId: ST, productId: DFU }, { timeoutMs: 5000 })).to.equal(
        boardA,
      );
      expect(webusb.getDevices.callCount).to.equal(4);
    });

    it("a connect event cuts the poll interval short, and waitFor() unsubscribes afterwards", async () => {
      const webusb = new FakeWebUsb();
      const add = sinon.spy(webusb, "addEventListener");
      const remove = sinon.spy(webusb, "removeEventListener");
      const clock = new WallClock();
      const bus = new WebUsbBus({ webusb, clock, pollMs: 60_000 });
      const started = clock.now();
      const found = bus.waitFor({ vendorId: ST, productId: DFU }, { timeoutMs: 30_000 });
      await clock.sleep(20);
      webusb.plug(boardA);
      expect(await found).to.equal(boardA);
      expect(clock.now() - started).to.be.below(2000);
      expect(add.args.map((a) => a[0]).sort()).to.deep.equal(["connect", "disconnect"]);
      expect(remove.args.map((a) => a[0]).sort()).to.deep.equal(["connect", "disconnect"]);
    });

    describe("notSame (re-enumeration after a reset)", () => {
      const before = fakeDevice({ productId: DFU, bus: "1", address: 5 });
      const sameEnumerationAgain = fakeDevice({ productId: DFU, bus: "1", address: 5 });
      const after = fakeDevice({ productId: DFU, bus: "1", address: 6 });
      const filter = { vendorId: ST, productId: DFU };

      it("never returns the stale handle, nor a fresh handle to the same enumeration", async () => {
        const webusb = new FakeWebUsb();
        webusb.answers([before], [sameEnumerationAgain], [], [after]);
        const found = await busWith(webusb).waitFor(filter, { timeoutMs: 5000, notSame: before });
        expect(found).to.equal(after);
      });

      it("accepts the old bus address once the stale device was seen gone", async () => {
        const webusb = new FakeWebUsb();
        webusb.answers([before], [], [sameEnumerationAgain]);
        const found = await busWith(webusb).waitFor(filter, { timeoutMs: 5000, notSame: before });
        expect(found).to.equal(sameEnumerationAgain);
      });

      it("takes a disconnect event of the stale device as it being gone", async () => {
        const webusb = new FakeWebUsb();
        webusb.devices = [before];
        const clock = new WallClock();
        const bus = new WebUsbBus({ webusb, clock, pollMs: 60_000 });
        const found = bus.waitFor(filter, { timeoutMs: 30_000, notSame: before });
        await clock.sleep(10);
        webusb.unplug(before);
        webusb.plug(sameEnumerationAgain);
        expect(await found).to.equal(sameEnumerationAgain);
      });

      it("times out while only the stale device is there", async () => {
        const webusb = new FakeWebUsb();
        webusb.devices = [before];
        const error = await rejectionOf(busWith(webusb).waitFor(filter, { timeoutMs: 40, notSame: before }));
        expect(error).to.be.instanceOf(TimeoutError);
        expect(error.message).to.equal(
          "timed out after 40 ms waiting for USB device 0483:df11 to re-enumerate",
        );
      });

      it("compares handles without bus/address by identity only", () => {
        const a = fakeDevice({ productId: DFU });
        const b = fakeDevice({ productId: DFU });
        expect(sameEnumeration(a, a)).to.equal(true);
        expect(sameEnumeration(a, b)).to.equal(false);
        expect(sameEnumeration(before, sameEnumerationAgain)).to.equal(true);
        expect(sameEnumeration(before, after)).to.equal(false);
      });
    });

    it("times out on the given clock's time", async () => {
      const webusb = new FakeWebUsb();
      const clock = new ManualClock();
      const bus = new WebUsbBus({ webusb, pollMs: 10 });
      let settled = false;
      const waiting = rejectionOf(
        bus.waitFor({ vendorId: ST, serialNumber: "X" }, { timeoutMs: 100, clock }),
      );
      void waiting.then(() => {
        settled = true;
      });
      for (let t = 0; t < 90; t += 10) await clock.advance(10);
      expect(settled, "still waiting at 90 ms").to.equal(false);
      await clock.advance(10);
      await clock.advance(10);
      const error = await waiting;
      expect(error).to.be.instanceOf(TimeoutError);
      expect(error.message).to.equal("timed out after 100 ms waiting for USB device 0483:* serial X");
    });

    it("throws the first listing error at once (no USB subsystem), before subscribing to hotplug", async () => {
      const webusb = new FakeWebUsb();
      const add = sinon.spy(webusb, "addEventListener");
      webusb.getDevices.rejects(new Error("getDevices error: /sys/bus/usb/devices/ not found"));
      const error = await rejectionOf(busWith(webusb).waitFor({ vendorId: ST }, { timeoutMs: 5000 }));
      expect(error.message).to.match(/sys\/bus\/usb/);
      expect(add.called).to.equal(false);
    });

    it("treats later listing errors as transient and reports the last one as the timeout's cause", async () => {
      const webusb = new FakeWebUsb();
      const glitch = new Error("LIBUSB_ERROR_IO");
      webusb.getDevices.onFirstCall().resolves([]).rejects(glitch);
      const error = await rejectionOf(busWith(webusb).waitFor({ vendorId: ST }, { timeoutMs: 40 }));
      expect(error).to.be.instanceOf(TimeoutError);
      expect(error.cause).to.equal(glitch);
    });

    it("describes filters for messages", () => {
      expect(describeFilter({ vendorId: ST, productId: DFU, serialNumber: "206A" })).to.equal(
        "0483:df11 serial 206A",
      );
    });

    describe("port path (rig files' usb.port, as sysfs names it)", () => {
      // Two boards in the ROM bootloader: same VID:PID, and here no serial to tell them apart.
      const onHubPort3 = fakeDevice({ productId: DFU, bus: "001", address: 7, ports: [2, 3] });
      const onHubPort4 = fakeDevice({ productId: DFU, bus: "001", address: 8, ports: [2, 4] });

      it("reads bus-port.port from node-usb's bus and port chain; none without them", () => {
        expect(usbPortPath(onHubPort3)).to.equal("1-2.3");
        expect(usbPortPath(fakeDevice({ productId: DFU, bus: "3", address: 2, ports: [1] }))).to.equal("3-1");
        expect(usbPortPath(fakeDevice({ productId: DFU }))).to.equal(undefined);
        expect(usbPortPath(fakeDevice({ productId: DFU, bus: "1", address: 1, ports: [] }))).to.equal(
          undefined,
        );
      });

      it("a filter with portPath matches only the device on that port", async () => {
        const filter = { vendorId: ST, productId: DFU, portPath: "1-2.4" };
        expect(matchesFilter(onHubPort3, filter)).to.equal(false);
        expect(matchesFilter(onHubPort4, filter)).to.equal(true);
        const webusb = new FakeWebUsb();
        webusb.devices = [onHubPort3, onHubPort4];
        expect(await busWith(webusb).find(filter)).to.equal(onHubPort4);
        expect(await busWith(webusb).find({ ...filter, portPath: "1-2.5" })).to.equal(undefined);
        expect(describeFilter(filter)).to.equal("0483:df11 at port 1-2.4");
      });

      it("after a reset, waitFor finds the new enumeration on the same port (new address), not a neighbour", async () => {
        const again = fakeDevice({ productId: DFU, bus: "001", address: 9, ports: [2, 3] });
        const webusb = new FakeWebUsb();
        webusb.answers([onHubPort3, onHubPort4], [onHubPort4], [onHubPort4, again]);
        const found = await busWith(webusb).waitFor(
          { vendorId: ST, productId: DFU, portPath: "1-2.3" },
          { timeoutMs: 5000, notSame: onHubPort3 },
        );
        expect(found).to.equal(again);
      });
    });
  });

  describe("recordUsb()", () => {
    /** Class-based like node-usb's device, with a #private field behind a getter. */
    class FakeUsbDevice {
      #opened = false;
      readonly controlTransferIn = sinon.stub();
      readonly controlTransferOut = sinon.stub();
      readonly transferOut = sinon.stub();
      readonly reset = sinon.stub().resolves();
      get opened() {
        return this.#opened;
      }
      async open() {
        this.#opened = true;
      }
      async selectAlternateInterface(_iface: number, _alt: number) {}
    }

    function recorded() {
      const clock = new ManualClock();
      const transcript = new Transcript({ clock });
      const fake = new FakeUsbDevice();
      const device = recordUsb(fake as unknown as USBDevice, transcript);
      return { clock, transcript, fake, device };
    }

    const dnload = { requestType: "class", recipient: "interface", request: 1, value: 2, index: 0 } as const;
    const getStatus = {
      requestType: "class",
      recipient: "interface",
      request: 3,
      value: 0,
      index: 0,
    } as const;

    it("records an OUT control transfer: SETUP fields, data and status, passing arguments through", async () => {
      const { transcript, fake, device } = recorded();
      fake.controlTransferOut.resolves({ status: "ok", bytesWritten: 4 });
      const data = Uint8Array.of(0xde, 0xad, 0xbe, 0xef);
      const result = await device.controlTransferOut(dnload, data);
      expect(result).to.deep.equal({ status: "ok", bytesWritten: 4 });
      expect(fake.controlTransferOut.calledOnceWithExactly(dnload, data)).to.equal(true);
      expect(transcript.entries).to.deep.equal([
        {
          t: 0,
          dir: "ctrl-out",
          setup: { bmRequestType: 0x21, bRequest: 1, wValue: 2, wIndex: 0, wLength: 4 },
          status: "ok",
          bytes: data,
        },
      ]);
    });

    it("records an IN control transfer's data", async () => {
      const { transcript, fake, device } = recorded();
      const status = Uint8Array.of(0x00, 0x32, 0x00, 0x00, 0x04, 0x00);
      fake.controlTransferIn.resolves({ status: "ok", data: new DataView(status.buffer) });
      await device.controlTransferIn(getStatus, 6);
      expect(transcript.entries[0]).to.deep.include({
        dir: "ctrl-in",
        setup: { bmRequestType: 0xa1, bRequest: 3, wValue: 0, wIndex: 0, wLength: 6 },
        status: "ok",
        bytes: status,
      });
    });

    it("records a STALL as a value and renders it so it cannot be missed", async () => {
      const { clock, transcript, fake, device } = recorded();
      fake.controlTransferIn.resolves({ status: "stall" });
      await clock.advance(3.5);
      expect((await device.controlTransferIn(getStatus, 6)).status).to.equal("stall");
      expect(transcript.entries[0]).to.deep.include({ status: "stall" });
      expect(transcript.entries[0]).not.to.have.property("bytes");
      expect(transcript.render()).to.equal(
        "     3.500 ms << ctrl-in bmRequestType=0xa1 bRequest=0x03 wValue=0x0000 wIndex=0x0000 wLength=6 -> *** STALL ***\n",
      );
    });

    it("records a transfer that throws (device gone) with status error, and rethrows", async () => {
      const { transcript, fake, device } = recorded();
      const gone = new Error("LIBUSB_ERROR_NO_DEVICE");
      fake.controlTransferOut.rejects(gone);
      expect(await rejectionOf(device.controlTransferOut(dnload))).to.equal(gone);
      expect(transcript.entries[0]).to.deep.include({
        dir: "ctrl-out",
        status: "error",
        note: "LIBUSB_ERROR_NO_DEVICE",
      });
      expect(transcript.entries[0]?.setup?.wLength).to.equal(0);
    });

    it("records lifecycle calls and bulk transfers, and keeps the device's getters working", async () => {
      const { transcript, fake, device } = recorded();
      fake.transferOut.resolves({ status: "ok", bytesWritten: 2 });
      await device.open();
      expect(device.opened).to.equal(true);
      await device.selectAlternateInterface(0, 1);
      await device.transferOut(1, Uint8Array.of(0x50, 0x51));
      await device.reset();
      expect(fake.reset.calledOnce).to.equal(true);
      expect(transcript.entries.map((e) => e.note)).to.deep.equal([
        "usb open()",
        "usb selectAlternateInterface(0, 1)",
        "bulk/int OUT ep 1",
        "usb reset()",
      ]);
      expect(transcript.entries[2]).to.deep.include({ dir: "tx", bytes: Uint8Array.of(0x50, 0x51) });
    });

    it("builds bmRequestType from direction, type and recipient (USB 2.0 §9.3)", () => {
      const vendorIn = setupPacket(
        { requestType: "vendor", recipient: "device", request: 0x41, value: 1, index: 2 },
        true,
        8,
      );
      expect(vendorIn).to.deep.equal({
        bmRequestType: 0xc0,
        bRequest: 0x41,
        wValue: 1,
        wIndex: 2,
        wLength: 8,
      });
      const clearHalt = setupPacket(
        { requestType: "standard", recipient: "endpoint", request: 1, value: 0, index: 0x81 },
        false,
        0,
      );
      expect(clearHalt.bmRequestType).to.equal(0x02);
    });
  });
});
