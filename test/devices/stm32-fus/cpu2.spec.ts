/**
 * The emulated CPU2 at the byte level: AN5185 §7 frames on the wire (USART 0x50/0x51, DFU
 * UPLOAD 0xFFFF0054 / DNLOAD 0x52..), the Table 1 activation rule, SBRV/SFSA, user keys.
 */
import { createCipheriv } from "node:crypto";
import { expect } from "chai";
import { STACK_1 } from "../../../fixtures/fus/build.js";
import { Stm32Device } from "../../../harness/devices/stm32/device.js";
import { EmulatedUsbBus } from "../../../harness/devices/stm32/dfu/bus.js";
import { attachUsbDfu } from "../../../harness/devices/stm32/dfu/index.js";
import { OB } from "../../../harness/devices/stm32/option-bytes.js";
import { connectUsart } from "../../../harness/devices/stm32/usart/port.js";
import {
  DEVICE_INFO_TABLE_ADDRESS,
  decodeDeviceInfo,
  SBRV_FUS,
} from "../../../harness/protocol/fus/index.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";
import { fromHex, toHex } from "../../../harness/transport/hex.js";
import { fusBench, TRANSPORTS } from "./helpers.js";

async function usartBoard() {
  const clock = new VirtualClock();
  const dev = new Stm32Device({ clock, seed: 5, profile: "stm32wb55" });
  attachUsbDfu(dev);
  await dev.power.on();
  const host = connectUsart(dev);
  const xfer = async (hex: string, want: number) => {
    await host.write(fromHex(hex));
    try {
      return toHex(await host.read(want, { timeoutMs: 8000 }));
    } catch (e) {
      return `timeout:${toHex((e as { partial: Uint8Array }).partial)}`;
    }
  };
  return { dev, clock, xfer };
}

describe("devices/stm32 FUS (emulated CPU2, AN5185)", () => {
  it("USART special read 0x50 / GET_STATE 0x54: Table 16 packets; the second one reboots with no answer", async () => {
    const { dev, xfer } = await usartBoard();
    expect(await xfer("7f", 1)).to.equal("79");
    // 0x50 0xAF → ACK; opcode 00 54 + XOR → ACK; address packet size 0 + XOR → ACK, data [00 FF FE], status [00], ACK
    expect(await xfer("50af", 1)).to.equal("79");
    expect(await xfer("005454", 1)).to.equal("79");
    expect(await xfer("000000", 1 + 5 + 3 + 1)).to.equal(
      toHex(fromHex("79 0003 00fffe 0001 00 79".replace(/ /g, ""))),
    );
    expect(await xfer("50af", 1)).to.equal("79");
    expect(await xfer("005454", 1)).to.equal("79");
    const r = await xfer("000000", 1);
    expect(r, "no state returned: the chip resets").to.match(/^timeout:/);
    expect(dev.fus!.mode).to.equal("fus");
    expect(dev.chip.optionBytes.activeWord(OB.SBRV) & 0x3ffff).to.equal(SBRV_FUS);
    // Fresh ROM: sync again, then IDLE.
    expect(await xfer("7f", 1)).to.equal("79");
    expect(await xfer("50af", 1)).to.equal("79");
    expect(await xfer("005454", 1)).to.equal("79");
    expect(await xfer("000000", 10)).to.equal("7900030000000001" + "0079");
  });

  it("USART special write 0x51: START_WS (0x5A) without a stack answers the Table 17 KO status [0x01, state, error]", async () => {
    const { dev, clock, xfer } = await usartBoard();
    dev.fus!.nv.stack = undefined;
    dev.chip.optionBytes.setWord(OB.SBRV, SBRV_FUS);
    await dev.reset();
    await clock.sleep(10);
    expect(await xfer("7f", 1)).to.equal("79");
    expect(await xfer("51ae", 1)).to.equal("79");
    expect(await xfer("005a5a", 1)).to.equal("79");
    expect(await xfer("000000", 1)).to.equal("79");
    expect(await xfer("000000", 1 + 5 + 1)).to.equal("790003" + "01ff01" + "79");
  });

  it("Device information table at SRAM2a: pointer at 0x20030000, versions, Last FUS active state (Table 4)", async () => {
    const { dev } = await usartBoard();
    const ptr = new DataView(
      dev.chip.read(0x2003_0000, 4).ok
        ? (dev.chip.read(0x2003_0000, 4) as { value: Uint8Array }).value.buffer
        : new ArrayBuffer(4),
    ).getUint32(0, true);
    expect(ptr).to.equal(DEVICE_INFO_TABLE_ADDRESS);
    const r = dev.chip.read(ptr, 52);
    expect(r.ok).to.equal(true);
    const t = decodeDeviceInfo((r as { value: Uint8Array }).value);
    expect(t.valid).to.equal(true);
    expect(t.lastFusActiveState).to.equal(0x04);
    expect(t.fusVersion).to.equal(0x01020000);
    expect(t.deviceId).to.equal(0x495);
  });

  it("DFU: UPLOAD 2 bytes at 0xFFFF0054 is GET_STATE (Table 19)", async () => {
    const clock = new VirtualClock();
    const dev = new Stm32Device({ clock, seed: 5, profile: "stm32wb55" });
    const port = attachUsbDfu(dev);
    await dev.power.on();
    const bus = new EmulatedUsbBus([port], clock);
    const d = await bus.waitFor({ vendorId: 0x0483, productId: 0xdf11 }, { timeoutMs: 5000 });
    await d.open();
    await d.selectConfiguration(1);
    await d.claimInterface(0);
    const setup = (request: number, value = 0) =>
      ({ requestType: "class", recipient: "interface", request, value, index: 0 }) as const;
    await d.controlTransferOut(setup(1, 0), Uint8Array.of(0x21, 0x54, 0x00, 0xff, 0xff));
    await d.controlTransferIn(setup(3), 6);
    await d.controlTransferIn(setup(3), 6);
    await d.controlTransferOut(setup(6)); // ABORT
    const r = await d.controlTransferIn(setup(2, 2), 2);
    expect(r.status).to.equal("ok");
    expect([...new Uint8Array(r.data!.buffer)]).to.deep.equal([0xff, 0xfe]);
  });

  for (const transport of TRANSPORTS)
    it(`user keys over ${transport}: master at 0, simple/encrypted indexes from 1, AES-GCM decryption, load into AES1`, async () => {
      const { dev, client } = await fusBench(transport, { factoryStack: false });
      const master = new Uint8Array(16).fill(0x11);
      expect(await client.storeUserKey("master", master)).to.equal(0);
      expect(await client.storeUserKey("simple", new Uint8Array(16).fill(0x22))).to.equal(1);
      const secret = new Uint8Array(32).fill(0x33);
      const iv = new Uint8Array(12).fill(0x44);
      const c = createCipheriv("aes-128-gcm", master, iv);
      const enc = Uint8Array.from(Buffer.concat([c.update(secret), c.final()]));
      expect(await client.storeUserKey("encrypted", enc, iv)).to.equal(2);
      await client.loadUserKey(2);
      expect(dev.fus!.aes1Key).to.deep.equal(secret);
      const e = await client.loadUserKey(0).catch((x: unknown) => x);
      expect(e, "the master key never goes into AES1").to.be.instanceOf(Error);
    });

  it("user keys: 100 clear/encrypted keys + 1 master, the 101st user key is refused (§5.1)", async () => {
    const { client } = await fusBench("usart", { factoryStack: false });
    for (let i = 1; i <= 100; i++)
      expect(await client.storeUserKey("simple", new Uint8Array(16).fill(i))).to.equal(i);
    expect(await client.storeUserKey("master", new Uint8Array(16).fill(0xaa))).to.equal(0);
    const e = await client.storeUserKey("simple", new Uint8Array(16)).catch((x: unknown) => x);
    expect(e).to.be.instanceOf(Error);
    const again = await client.storeUserKey("master", new Uint8Array(16)).catch((x: unknown) => x);
    expect(again, "the master key can't be changed").to.be.instanceOf(Error);
  });

  it("install moves SFSA to the image and SBRV to the stack; the device table follows", async () => {
    const { dev, client } = await fusBench("usb-dfu", { factoryStack: false });
    const { address } = await client.fwUpgrade(STACK_1());
    expect(dev.chip.optionBytes.activeWord(OB.SFSA) & 0xff).to.equal((address - 0x0800_0000) / 4096);
    expect(dev.chip.optionBytes.activeWord(OB.SBRV) & 0x3ffff).to.equal(
      ((address - 0x0800_0000) / 4) & 0x3ffff,
    );
    const info = await client.readDeviceInfo();
    expect(info.wirelessStackMemorySize & 0xff).to.equal(19);
    expect(info.lastWirelessStackState).to.equal(0x01);
  });
});

describe("FUS fault-plan events", () => {
  it("event:fus.reset#1=power-cut: an install cut at FUS's first reset recovers to IDLE, nothing installed", async () => {
    const { parseFault } = await import("../../../harness/sim/faults.js");
    const { dev, clock, client } = await fusBench("usb-dfu", {
      factoryStack: false,
      faults: [parseFault("event:fus.reset#1=power-cut")],
      client: { offlineTimeoutMs: 3000 },
    });
    await client.fwUpgrade(STACK_1()).catch(() => {});
    expect(dev.power.isOn, "cut at the first FUS reset").to.equal(false);
    expect(dev.fus!.nv.journal, "operation left unfinished").to.not.equal(undefined);
    await dev.power.on();
    await clock.sleep(15_000);
    expect(dev.fus!.mode).to.equal("fus");
    expect(dev.fus!.state).to.deep.equal({ state: 0, error: 0 });
    expect(dev.fus!.nv.journal).to.equal(undefined);
    expect(dev.fus!.nv.stack).to.equal(undefined);
    expect(dev.chip.optionBytes.activeWord(OB.SFSA) & 0xff).to.equal(0xf4);
  });

  it("event:fus.reset#2=power-cut: cut after the install committed; the next boot runs the stack", async () => {
    const { parseFault } = await import("../../../harness/sim/faults.js");
    const { dev, clock, client } = await fusBench("usb-dfu", {
      factoryStack: false,
      faults: [parseFault("event:fus.reset#2=power-cut")],
      client: { offlineTimeoutMs: 3000 },
    });
    await client.fwUpgrade(STACK_1()).catch(() => {});
    expect(dev.power.isOn).to.equal(false);
    await dev.power.on();
    await clock.sleep(1000);
    expect(dev.fus!.mode).to.equal("stack");
    expect(dev.fus!.nv.stack?.version).to.equal(0x01000000);
  });
});

describe("fixtures/fus", () => {
  it("the .bin files are what the generator makes (deterministic, emulator-signed)", async () => {
    const { FIXTURES } = await import("../../../fixtures/fus/generate.js");
    const { readFileSync } = await import("node:fs");
    for (const [name, make] of Object.entries(FIXTURES)) {
      const file = new Uint8Array(readFileSync(new URL(`../../../fixtures/fus/${name}`, import.meta.url)));
      expect(file, name).to.deep.equal(make());
    }
  });
});
