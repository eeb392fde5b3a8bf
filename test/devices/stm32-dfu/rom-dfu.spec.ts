import { expect } from "chai";
import { FUNCTIONAL_DESCRIPTOR } from "../../../harness/devices/stm32/dfu/index.js";
import { OB, RDP_LEVEL0 } from "../../../harness/devices/stm32/option-bytes.js";
import { DfuState, DfuStatus, parseMemoryMap } from "../../../harness/protocol/dfu/index.js";
import { renderDeviceLog } from "../../../harness/report/device-log.js";
import { parseFault } from "../../../harness/sim/faults.js";
import { dnload, getStatus, le32, openRom, poweredBoard, request, upload, vectorTable } from "./helpers.js";

describe("devices/stm32 ROM DFU (emulated, raw transfers)", () => {
  it("enumerates as 0483:df11 'STM32  BOOTLOADER' after the USB connect time, with the documented descriptors", async () => {
    const b = await poweredBoard("stm32l432kc");
    const t0 = b.clock.now();
    const d = await openRom(b);
    expect(b.clock.now() - t0).to.be.at.least(820);
    expect([d.vendorId, d.productId, d.productName, d.manufacturerName]).to.deep.equal([
      0x0483,
      0xdf11,
      "STM32  BOOTLOADER",
      "STMicroelectronics",
    ]);
    expect(d.serialNumber).to.match(/^[0-9A-F]{12}$/);
    const names = d.configuration!.interfaces[0]!.alternates.map((a) => a.interfaceName);
    expect(names[0]).to.equal("@Internal Flash  /0x08000000/0128*0002Kg");
    for (const n of names) parseMemoryMap(n!);
    const cfg = await d.controlTransferIn(
      { requestType: "standard", recipient: "device", request: 6, value: 0x0200, index: 0 },
      255,
    );
    const bytes = new Uint8Array(cfg.data!.buffer);
    expect([...bytes.subarray(bytes.length - 9)]).to.deep.equal([...FUNCTIONAL_DESCRIPTOR]);
    expect([...FUNCTIONAL_DESCRIPTOR]).to.deep.equal([9, 0x21, 0x0b, 0xff, 0, 0, 0x08, 0x1a, 0x01]);
  });

  it("erase: first GETSTATUS dfuDNBUSY with the page-erase time, then dfuDNLOAD-IDLE and the page erased", async () => {
    const b = await poweredBoard("stm32l432kc");
    b.dev.chip.flash.load(0x08000800, Uint8Array.of(1, 2, 3, 4));
    const d = await openRom(b);
    expect(await dnload(d, 0, le32(0x41, 0x08000800))).to.equal("ok");
    expect(await getStatus(d)).to.deep.equal({
      status: 0,
      pollTimeoutMs: 22,
      state: DfuState.dfuDNBUSY,
      iString: 0,
    });
    await b.clock.sleep(22);
    expect((await getStatus(d)).state).to.equal(DfuState.dfuDNLOAD_IDLE);
    expect([...b.dev.chip.flash.peek(0x08000800, 4)]).to.deep.equal([0xff, 0xff, 0xff, 0xff]);
  });

  it("write: address = (wBlockNum − 2) × wLength + pointer; upload reads it back", async () => {
    const b = await poweredBoard("stm32l432kc");
    const d = await openRom(b);
    await dnload(d, 0, le32(0x21, 0x08001000));
    await getStatus(d);
    await getStatus(d);
    const data = Uint8Array.from({ length: 1024 }, (_, i) => i & 0xff);
    expect(await dnload(d, 3, data)).to.equal("ok");
    const busy = await getStatus(d);
    expect([busy.state, busy.pollTimeoutMs]).to.deep.equal([DfuState.dfuDNBUSY, Math.ceil(128 * 0.082)]);
    expect((await getStatus(d)).state).to.equal(DfuState.dfuDNLOAD_IDLE);
    expect(b.dev.chip.flash.peek(0x08001400, 1024)).to.deep.equal(data);
    expect(await request(d, 6, "out")).to.equal("ok"); // ABORT → dfuIDLE
    const up = await upload(d, 3, 1024);
    expect(new Uint8Array(up.data!.buffer)).to.deep.equal(data);
    expect((await getStatus(d)).state).to.equal(DfuState.dfuUPLOAD_IDLE);
  });

  it("errTARGET outside the memory map; an illegal request stalls into dfuERROR errSTALLEDPKT; CLRSTATUS recovers", async () => {
    const b = await poweredBoard("stm32l432kc");
    const d = await openRom(b);
    await dnload(d, 0, le32(0x21, 0x08040000));
    expect((await getStatus(d)).state).to.equal(DfuState.dfuDNBUSY);
    expect(await getStatus(d)).to.deep.include({ status: DfuStatus.errTARGET, state: DfuState.dfuERROR });
    expect(await request(d, 4, "out")).to.equal("ok");
    expect(await getStatus(d)).to.deep.include({ status: DfuStatus.OK, state: DfuState.dfuIDLE });
    expect(await request(d, 4, "out")).to.equal("stall"); // CLRSTATUS outside dfuERROR
    expect(await getStatus(d)).to.deep.include({ status: DfuStatus.errSTALLEDPKT, state: DfuState.dfuERROR });
  });

  it("leave with a valid vector table: dfuMANIFEST, USB disconnect, the application enumerates with its own VID/PID", async () => {
    const b = await poweredBoard("stm32l432kc", { app: { vendorId: 0x20a0, productId: 0x42d4 } });
    b.dev.chip.flash.load(0x08000000, vectorTable(b.dev));
    const d = await openRom(b);
    expect(await dnload(d, 2, new Uint8Array(0))).to.equal("ok");
    expect((await getStatus(d)).state).to.equal(DfuState.dfuMANIFEST);
    const err = await getStatus(d).catch((e: Error) => e);
    expect(err).to.have.property("name", "NetworkError");
    const app = await b.bus.waitFor({ vendorId: 0x20a0, productId: 0x42d4 }, { timeoutMs: 2000 });
    expect(app).to.not.equal(d);
    expect(b.dev.mode).to.deep.include({ kind: "application", entry: 0x08000000 });
  });

  it("leave without a program: the ROM resets and BOOT0 brings it back as a new enumeration", async () => {
    const b = await poweredBoard("stm32l432kc");
    const d = await openRom(b);
    await dnload(d, 0, new Uint8Array(0));
    expect((await getStatus(d)).state).to.equal(DfuState.dfuMANIFEST);
    const again = await openRom(b, 0, d);
    expect(again).to.not.equal(d);
    expect((await getStatus(again)).state).to.equal(DfuState.dfuIDLE);
  });

  it("RDP level 1: upload refused with errVENDOR; Read Unprotect mass-erases, resets and re-enumerates at level 0", async () => {
    const b = await poweredBoard("stm32l432kc");
    b.dev.chip.flash.load(0x08000000, Uint8Array.of(0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0));
    b.dev.chip.readoutProtect();
    await b.dev.systemReset("test: RDP 1");
    const d = await openRom(b);
    expect((await upload(d, 2, 64)).status).to.equal("stall");
    expect(await getStatus(d)).to.deep.include({ status: DfuStatus.errVENDOR, state: DfuState.dfuERROR });
    await request(d, 4, "out");
    await dnload(d, 0, Uint8Array.of(0x92));
    expect((await getStatus(d)).state).to.equal(DfuState.dfuDNBUSY);
    const d2 = await openRom(b, 0, d);
    expect(b.dev.chip.rdpLevel).to.equal(0);
    expect([...b.dev.chip.flash.peek(0x08000000, 4)]).to.deep.equal([0xff, 0xff, 0xff, 0xff]);
    expect((await upload(d2, 2, 4)).status).to.equal("ok");
  });

  it("an option-byte write applies and resets the device", async () => {
    const b = await poweredBoard("stm32l432kc");
    const d = await openRom(b, 1);
    const ob = b.dev.chip.optionBytes.raw;
    expect(ob[OB.OPTR]).to.equal(RDP_LEVEL0);
    ob[OB.OPTR] = 0xbb;
    ob[OB.OPTR + 4] = 0x44;
    await dnload(d, 0, le32(0x21, 0x1fff7800));
    await getStatus(d);
    await getStatus(d);
    await dnload(d, 2, ob);
    expect((await getStatus(d)).state).to.equal(DfuState.dfuDNBUSY);
    await openRom(b, 0, d);
    expect(b.dev.chip.rdpLevel).to.equal(1);
  });

  it("L4 quirk (opt-in): GETSTATUS stalls while a page erase runs after a too-short bwPollTimeout", async () => {
    const b = await poweredBoard("stm32l432kc", { quirks: { l4EraseStall: true } });
    const d = await openRom(b);
    await dnload(d, 0, le32(0x41, 0x08000000));
    const first = await getStatus(d);
    expect([first.state, first.pollTimeoutMs]).to.deep.equal([DfuState.dfuDNBUSY, 8]);
    await b.clock.sleep(first.pollTimeoutMs);
    expect(await request(d, 3, "in")).to.equal("stall");
    await b.clock.sleep(30);
    expect((await getStatus(d)).state).to.equal(DfuState.dfuDNLOAD_IDLE);
  });

  it("WB55: mass erase refused with errTARGET; writes above SFSA refused, flash there untouched", async () => {
    const b = await poweredBoard("stm32wb55");
    const sfsa = 0x08000000 + (b.dev.chip.optionBytes.sfsa ?? 0) * 4096;
    b.dev.chip.flash.load(sfsa, Uint8Array.of(0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5));
    const d = await openRom(b);
    await dnload(d, 0, Uint8Array.of(0x41));
    await getStatus(d);
    expect(await getStatus(d)).to.deep.include({ status: DfuStatus.errTARGET, state: DfuState.dfuERROR });
    await request(d, 4, "out");
    await dnload(d, 0, le32(0x41, sfsa));
    await getStatus(d);
    expect(await getStatus(d)).to.deep.include({ status: DfuStatus.errTARGET });
    expect(b.dev.chip.flash.peek(sfsa, 1)[0]).to.equal(0xa5);
  });

  it("fault plan: power cut after DNLOAD block k leaves the device off, blocks before k written", async () => {
    const b = await poweredBoard("stm32l432kc");
    b.dev.faults.add({
      where: { at: "event", event: "dfu.dnload.block", occurrence: 2 },
      what: { do: "power-cut" },
    });
    const d = await openRom(b);
    const block = new Uint8Array(2048).fill(0x5a);
    for (let k = 0; k < 2; k++) {
      await dnload(d, 2 + k, block);
      await getStatus(d);
      await b.clock.sleep(30);
      if (k === 0) expect((await getStatus(d)).state).to.equal(DfuState.dfuDNLOAD_IDLE);
    }
    expect(b.dev.power.isOn).to.equal(false);
    expect(b.dev.chip.flash.peek(0x08000800, 1)[0]).to.equal(0x5a);
  });
});

describe("devices/stm32 ROM DFU: USB faults from the fault plan", () => {
  it("usb-stall of a chosen request stalls it once without changing the DFU state", async () => {
    const b = await poweredBoard("stm32l432kc");
    b.dev.faults.add({
      where: { at: "event", event: "dfu.request.GETSTATUS", occurrence: 2 },
      what: { do: "usb-stall" },
    });
    const d = await openRom(b);
    expect((await getStatus(d)).state).to.equal(DfuState.dfuIDLE);
    expect(await request(d, 3, "in")).to.equal("stall");
    expect(await getStatus(d)).to.deep.include({ status: DfuStatus.OK, state: DfuState.dfuIDLE });
  });

  it("usb-disconnect mid-transfer drops the handle; the bootloader enumerates again as a new device", async () => {
    const b = await poweredBoard("stm32l432kc");
    b.dev.faults.add({
      where: { at: "event", event: "dfu.request.DNLOAD", occurrence: 1 },
      what: { do: "usb-disconnect" },
    });
    const d = await openRom(b);
    const err = await dnload(d, 2, new Uint8Array(64)).catch((e: Error) => e);
    expect(err).to.have.property("name", "NetworkError");
    const again = await openRom(b, 0, d);
    expect(again).to.not.equal(d);
    expect((await getStatus(again)).state).to.equal(DfuState.dfuIDLE);
  });
});

describe("devices/stm32 ROM DFU: injected DFU 1.1 statuses (dfu-status faults)", () => {
  it("at dfu.dnload.block#k: block k is not programmed, its second GETSTATUS says dfuERROR with the status; CLRSTATUS recovers", async () => {
    const b = await poweredBoard("stm32l432kc");
    b.dev.faults.add(parseFault("event:dfu.dnload.block#2=dfu-status-errPROG"));
    const d = await openRom(b);
    const block = (k: number) => new Uint8Array(2048).fill(0x10 + k);
    await dnload(d, 2, block(2));
    expect((await getStatus(d)).state).to.equal(DfuState.dfuDNBUSY);
    await b.clock.sleep(30);
    expect((await getStatus(d)).state).to.equal(DfuState.dfuDNLOAD_IDLE);
    const programs = b.dev.chip.flash.counters.programs;
    await dnload(d, 3, block(3));
    expect(await getStatus(d)).to.deep.include({ status: DfuStatus.OK, state: DfuState.dfuDNBUSY });
    await b.clock.sleep(30);
    expect(await getStatus(d)).to.deep.include({ status: DfuStatus.errPROG, state: DfuState.dfuERROR });
    expect(b.dev.chip.flash.counters.programs).to.equal(programs);
    expect(b.dev.chip.flash.isErased(0x08000800, 2048)).to.equal(true);
    expect(b.dev.faults.fired.map((f) => f.detail)).to.deep.equal(["event dfu.dnload.block #2"]);
    // A failed test's device log names the status, not just "dfu-status".
    expect(renderDeviceLog(b.dev)).to.include("event dfu.dnload.block #2: dfu-status-errPROG");
    expect(await request(d, 4, "out")).to.equal("ok"); // CLRSTATUS
    expect(await getStatus(d)).to.deep.include({ status: DfuStatus.OK, state: DfuState.dfuIDLE });
    await dnload(d, 3, block(3));
    await getStatus(d);
    await b.clock.sleep(30);
    expect((await getStatus(d)).state).to.equal(DfuState.dfuDNLOAD_IDLE);
    expect(b.dev.chip.flash.peek(0x08000800, 2048)).to.deep.equal(block(3));
  });

  it("at dfu.request.DNLOAD#k on the zero-length DNLOAD: no manifestation, GETSTATUS says dfuERROR errNOTDONE", async () => {
    const b = await poweredBoard("stm32l432kc");
    b.dev.chip.flash.load(0x08000000, vectorTable(b.dev));
    b.dev.faults.add(parseFault("event:dfu.request.DNLOAD#1=dfu-status-errNOTDONE"));
    const d = await openRom(b);
    expect(await dnload(d, 0, new Uint8Array(0))).to.equal("ok");
    expect(await getStatus(d)).to.deep.include({ status: DfuStatus.errNOTDONE, state: DfuState.dfuERROR });
    await b.clock.sleep(100);
    expect(b.dev.mode.kind).to.equal("bootloader");
    expect(b.port.current()).to.equal(d);
    expect(await request(d, 4, "out")).to.equal("ok");
    expect(await getStatus(d)).to.deep.include({ status: DfuStatus.OK, state: DfuState.dfuIDLE });
  });

  it("at dfu.request.GETSTATUS#k: that GETSTATUS says dfuERROR with the status (errFIRMWARE at start, as an F4 ROM)", async () => {
    const b = await poweredBoard("stm32l432kc");
    b.dev.faults.add(parseFault("event:dfu.request.GETSTATUS#1=dfu-status-errFIRMWARE"));
    const d = await openRom(b);
    expect(await getStatus(d)).to.deep.include({ status: DfuStatus.errFIRMWARE, state: DfuState.dfuERROR });
    expect(await getStatus(d)).to.deep.include({ status: DfuStatus.errFIRMWARE, state: DfuState.dfuERROR });
    expect(await request(d, 4, "out")).to.equal("ok");
    expect(await getStatus(d)).to.deep.include({ status: DfuStatus.OK, state: DfuState.dfuIDLE });
  });
});
