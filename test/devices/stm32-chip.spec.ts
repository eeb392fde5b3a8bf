import { expect } from "chai";
import { Stm32Device } from "../../harness/devices/stm32/device.js";
import { OB } from "../../harness/devices/stm32/option-bytes.js";
import { VirtualClock } from "../../harness/sim/virtual-clock.js";

function device(profile: "stm32l432kc" | "stm32wb55", options: Record<string, unknown> = {}) {
  return new Stm32Device({ clock: new VirtualClock(), seed: 3, profile, options });
}

/** A minimal vector table: SP at the top of SRAM, reset handler (Thumb) just after it. */
function vectorTable(dev: Stm32Device): Uint8Array {
  const vt = new Uint8Array(8);
  const view = new DataView(vt.buffer);
  view.setUint32(0, dev.profile.sram.base + dev.profile.sram.size, true);
  view.setUint32(4, dev.profile.flash.base + 0x101, true);
  return vt;
}

describe("devices/stm32 chip model (shared by the DFU and USART ROM interfaces)", () => {
  it("profiles carry the documented identities and geometry", () => {
    const l4 = device("stm32l432kc");
    const wb = device("stm32wb55");
    expect([
      l4.profile.pid,
      l4.profile.bootloaderId,
      l4.chip.flash.size,
      l4.chip.flash.sectors[0]?.size,
    ]).to.deep.equal([0x435, 0x91, 256 * 1024, 2048]);
    expect([
      wb.profile.pid,
      wb.profile.bootloaderId,
      wb.chip.flash.size,
      wb.chip.flash.sectors[0]?.size,
    ]).to.deep.equal([0x495, 0xd5, 1024 * 1024, 4096]);
    expect(l4.serial).to.match(/^[0-9A-F]{12}$/);
    // The bootloader ID byte sits at 0x1FFF6FFE.
    const id = l4.chip.read(0x1fff_6ffe, 1);
    expect(id.ok && id.value[0]).to.equal(0x91);
  });

  it("boots the ROM bootloader with BOOT0 high and an application with BOOT0 low and a valid vector table", async () => {
    const dev = device("stm32l432kc");
    await dev.power.on();
    expect(dev.mode.kind).to.equal("bootloader");
    const w = dev.chip.write(dev.profile.flash.base, vectorTable(dev));
    expect(w.ok).to.equal(true);
    await dev.selectBoot("application");
    await dev.systemReset("test");
    expect(dev.mode).to.deep.include({ kind: "application", entry: 0x0800_0000 });
  });

  it("boots the ROM from blank flash even with BOOT0 low (empty-flash check), and halts on a bad vector table", async () => {
    const dev = device("stm32l432kc", { boot: "app" });
    await dev.power.on();
    expect(dev.mode.kind).to.equal("bootloader");
    dev.chip.flash.load(dev.profile.flash.base, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    await dev.systemReset("test");
    expect(dev.mode).to.deep.include({ kind: "halted" });
  });

  it("RDP level 1: flash read, write and erase refused; readout unprotect mass-erases and returns to level 0 after reset", async () => {
    const dev = device("stm32l432kc");
    await dev.power.on();
    dev.chip.write(dev.profile.flash.base + 0x800, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    expect(dev.chip.readoutProtect().ok).to.equal(true);
    expect(dev.chip.rdpLevel, "stored only until reset").to.equal(0);
    await dev.systemReset("RDP change");
    expect(dev.chip.rdpLevel).to.equal(1);
    expect(dev.chip.read(dev.profile.flash.base, 4)).to.include({ ok: false, refusal: "rdp" });
    expect(dev.chip.write(dev.profile.flash.base, new Uint8Array(8))).to.include({
      ok: false,
      refusal: "rdp",
    });
    expect(dev.chip.erasePage(1)).to.include({ ok: false, refusal: "rdp" });
    expect(dev.chip.readoutUnprotect().ok).to.equal(true);
    await dev.systemReset("RDP change");
    expect(dev.chip.rdpLevel).to.equal(0);
    expect(dev.chip.flash.isErased(dev.profile.flash.base, dev.chip.flash.size)).to.equal(true);
  });

  it("WRP areas and the WB55 secure area above SFSA refuse writes and erases", async () => {
    const l4 = device("stm32l432kc");
    await l4.power.on();
    l4.chip.optionBytes.setWord(OB.WRP1AR, (5 << 16) | 4); // pages 4..5
    await l4.systemReset("OB reload");
    expect(l4.chip.erasePage(4)).to.include({ ok: false, refusal: "protected" });
    expect(l4.chip.write(l4.chip.pageAddress(5), new Uint8Array(8))).to.include({
      ok: false,
      refusal: "protected",
    });
    expect(l4.chip.erasePage(6).ok).to.equal(true);

    const wb = device("stm32wb55");
    await wb.power.on();
    expect(wb.chip.optionBytes.sfsa).to.equal(0xd0);
    expect(wb.chip.erasePage(0xd0)).to.include({ ok: false, refusal: "protected" });
    expect(wb.chip.erasePage(0xcf).ok).to.equal(true);
    expect(wb.chip.massErase()).to.include({ ok: false, refusal: "protected" });
  });

  it("pads flash writes to whole double words and refuses unmapped addresses", async () => {
    const dev = device("stm32l432kc");
    await dev.power.on();
    expect(dev.chip.write(dev.profile.flash.base + 16, Uint8Array.of(0xaa, 0xbb, 0xcc)).ok).to.equal(true);
    expect([...dev.chip.flash.peek(dev.profile.flash.base + 16, 8)]).to.deep.equal([
      0xaa, 0xbb, 0xcc, 0xff, 0xff, 0xff, 0xff, 0xff,
    ]);
    expect(dev.chip.write(0x0900_0000, new Uint8Array(8))).to.include({ ok: false, refusal: "unmapped" });
    expect(dev.chip.read(0x4000_0000, 4)).to.include({ ok: false, refusal: "unmapped" });
  });

  it("option-byte writes are stored and act only after the reset", async () => {
    const dev = device("stm32l432kc");
    await dev.power.on();
    const raw = dev.chip.optionBytes.raw;
    // nSWBOOT0 = 0, nBOOT0 = 0: boot from the ROM whatever the BOOT0 pin says.
    const optr = new DataView(raw.buffer).getUint32(0, true) & ~((1 << 26) | (1 << 27));
    const word = new Uint8Array(8);
    new DataView(word.buffer).setUint32(0, optr >>> 0, true);
    new DataView(word.buffer).setUint32(4, ~optr >>> 0, true);
    const r = dev.chip.write(dev.profile.optionBytes.base, word);
    expect(r.ok && r.value.optionBytesChanged).to.equal(true);
    dev.chip.write(dev.profile.flash.base, vectorTable(dev));
    await dev.selectBoot("application");
    await dev.systemReset("OB reload");
    expect(dev.mode.kind).to.equal("bootloader");
  });
});
