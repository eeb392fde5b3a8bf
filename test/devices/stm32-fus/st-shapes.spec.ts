/**
 * The emulated FUS with images of the shape ST ships (fixtures/fus ST_SHAPES): staged at the
 * release notes' address, found there and installed; a file signed with a key the emulator
 * does not have (as ST's own files are) refused, or accepted under st-signature=unverified.
 */
import { expect } from "chai";
import { ST_SHAPES, type StShape, shapedImage, UNSTATED, v } from "../../../fixtures/fus/build.js";
import { FusClientError } from "../../../harness/clients/fus/index.js";
import { Stm32Device } from "../../../harness/devices/stm32/device.js";
import { OB } from "../../../harness/devices/stm32/option-bytes.js";
import { encodeVersion, FusError, isNotRunning, pageOf } from "../../../harness/protocol/fus/index.js";
import { parseRigFile } from "../../../harness/rig/load.js";
import { buildRig } from "../../../harness/rig/rig.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";
import { fusBench } from "./helpers.js";

const SHAPES = Object.entries(ST_SHAPES) as [StShape, (typeof ST_SHAPES)[StShape]][];
const sfsaOf = (dev: Stm32Device) => dev.chip.optionBytes.activeWord(OB.SFSA) & 0xff;

describe("devices/stm32 FUS: images of the shape ST ships", () => {
  for (const [shape, s] of SHAPES.filter(([, s]) => s.kind.endsWith("stack"))) {
    it(`${shape} (${s.fileSize} B, ${s.sectors} sectors): staged at 0x${s.address.toString(16)}, installed there, its version reported`, async () => {
      const { dev, client } = await fusBench("usb-dfu", { factoryStack: false });
      const version = v(1, 24, 0);
      const image = shapedImage(shape, version);
      const { address } = await client.fwUpgrade(image);
      expect(address, "the release notes' install address").to.equal(s.address);
      expect(dev.fus!.mode).to.equal("stack");
      expect(dev.fus!.nv.stack?.page, "first install in place").to.equal(pageOf(s.address));
      expect(sfsaOf(dev)).to.equal(pageOf(s.address));
      const held = Math.min(image.length, s.sectors * 4096);
      expect(dev.chip.flash.peek(address, held)).to.deep.equal(image.subarray(0, held));
      if (image.length > held)
        expect(
          dev.chip.flash.isErased(address + held, 4096),
          "the spilled tail's staging sector is freed",
        ).to.equal(true);
      const info = await client.readDeviceInfo();
      expect(info.wirelessStackVersion).to.equal(encodeVersion(version));
      expect(info.wirelessStackMemorySize & 0xff).to.equal(s.sectors);
    });
  }

  it("FUS 2.2.0 (24 468 B, 6 sectors): staged at 0x080EE000 and installed; the staged copy is erased", async () => {
    const { dev, client } = await fusBench("usart", { factoryStack: false });
    const image = shapedImage("FUS 2.2.0", v(2, 2, 0));
    const { address } = await client.fwUpgrade(image);
    expect(address).to.equal(0x080ee000);
    expect((await client.readDeviceInfo()).fusVersion).to.equal(encodeVersion(v(2, 2, 0)));
    expect(dev.chip.flash.isErased(address, image.length)).to.equal(true);
    expect(dev.fus!.state).to.deep.equal({ state: 0, error: 0 });
  });

  it("FUS 1.2.0 (24 492 B, no version in its footer): installed over FUS 1.2.0, which it reports still", async () => {
    const { dev, client } = await fusBench("usb-dfu", { factoryStack: false });
    const image = shapedImage("FUS 1.2.0", UNSTATED);
    const { address } = await client.fwUpgrade(image);
    expect(address).to.equal(0x080ec000);
    expect((await client.readDeviceInfo()).fusVersion).to.equal(encodeVersion(v(1, 2, 0)));
    expect(dev.chip.flash.isErased(address, image.length)).to.equal(true);
  });

  for (const shape of ["Safeboot 2.0.0", "Safeboot 2.0.1"] as const) {
    it(`${shape}: installed, then the factory state the release notes describe (no stack, user flash erased)`, async () => {
      const { dev, client } = await fusBench("usb-dfu", { factoryStack: true });
      const app = Uint8Array.from({ length: 64 }, (_, i) => i);
      expect(dev.chip.flash.program(0x0800_0000, app).ok).to.equal(true);
      const version = shape === "Safeboot 2.0.0" ? v(2, 0, 0) : v(2, 0, 1);
      const image = shapedImage(shape, version);
      await client.fwUpgrade(image);
      const info = await client.readDeviceInfo();
      expect(info.safeBootVersion).to.equal(encodeVersion(version));
      expect(info.stackInstalled).to.equal(false);
      expect(dev.fus!.mode).to.equal("fus");
      expect(sfsaOf(dev)).to.equal(0xf4);
      expect(dev.chip.flash.isErased(0x0800_0000, 0x080f_4000 - 0x0800_0000)).to.equal(true);
    });
  }

  describe("a file signed with a key the emulator does not have (as ST's own are)", () => {
    // BLE_Stack_full's shape, the ST signature not the test key's and the body unchecked by
    // any digest: what a real ST file is to the emulator.
    const stLike = () => {
      const image = shapedImage("BLE_Stack_full 1.24.0", v(1, 24, 0), { defect: "bad-st-signature" });
      image[0x100]! ^= 0xff;
      return image;
    };

    it("by default: ERROR / IMG_NOT_AUTHENTIC (0x03), flash and option bytes unchanged, never IMG_NOT_FOUND", async () => {
      const { dev, client } = await fusBench("usb-dfu", { factoryStack: false });
      const image = stLike();
      const e = await client.fwUpgrade(image).catch((x: unknown) => x);
      expect(e).to.be.instanceOf(FusClientError);
      expect((e as FusClientError).fusError).to.equal("IMG_NOT_AUTHENTIC");
      const refused = client.trace.filter((t) => t.kind === "state" && t.state === 0xff);
      expect(refused.map((t) => (t.kind === "state" ? t.error : -1))).to.include(FusError.IMG_NOT_AUTHENTIC);
      expect(dev.chip.flash.peek(0x080d0000, image.length)).to.deep.equal(image);
      expect(sfsaOf(dev)).to.equal(0xf4);
      expect(dev.fus!.nv.stack).to.equal(undefined);
    });

    it("with st-signature=unverified: installed at 0x080D0000, the stack runs, its footer version reported", async () => {
      const { dev, client } = await fusBench("usart", {
        factoryStack: false,
        options: { "st-signature": "unverified" },
      });
      const image = stLike();
      const { address } = await client.fwUpgrade(image);
      expect(address).to.equal(0x080d0000);
      const last = client.trace.at(-1)!;
      expect(last.kind === "state" && isNotRunning(last), "GET_STATE: the stack runs").to.equal(true);
      expect(dev.fus!.nv.stack?.page).to.equal(0xd0);
      expect(sfsaOf(dev)).to.equal(0xd0);
      const info = await client.readDeviceInfo();
      expect(info.wirelessStackVersion).to.equal(0x01180000);
      expect(info.wirelessStackMemorySize & 0xff).to.equal(32);
    });
  });

  it("st-signature is read from the emulator options; another value is refused naming the option", () => {
    const make = (value: unknown) =>
      new Stm32Device({
        clock: new VirtualClock(),
        seed: 1,
        profile: "stm32wb55",
        options: { "st-signature": value },
      });
    expect(make("unverified").fus!.stSignature).to.equal("unverified");
    expect(make("verify").fus!.stSignature).to.equal("verify");
    expect(
      new Stm32Device({ clock: new VirtualClock(), seed: 1, profile: "stm32wb55" }).fus!.stSignature,
    ).to.equal("verify");
    expect(() => make("off")).to.throw(/st-signature: expected verify or unverified, got "off"/);
  });

  it("a rig file's emulated options carry st-signature to the board", () => {
    const file = "rigs/fus-rehearsal.yaml";
    const text = [
      "name: fus-rehearsal",
      "boards:",
      "  - id: wb55-r",
      "    family: stm32wb55",
      "    capabilities: [usb-dfu, usart, fus]",
      "    emulated:",
      "      options: { st-signature: unverified }",
      "",
    ].join("\n");
    const board = buildRig(parseRigFile(text, file), file).boards[0]!;
    expect((board.emulator as Stm32Device).fus!.stSignature).to.equal("unverified");
  });
});
