/**
 * `time:MS=power-cut` faults: the rail drops at MS of device time, wherever the board is.
 * Checked on an emulated L432 under a DfuSe download (the cut lands mid-update, the host
 * sees the device go, the flash holds what was written before it), and that a plan change
 * disarms a pending time fault, and that a fault that cannot act at a time is refused.
 */
import { expect } from "chai";
import { main } from "../../harness/cli/main.js";
import { DfuClient } from "../../harness/clients/dfu/client.js";
import { Stm32Device } from "../../harness/devices/stm32/device.js";
import { attachUsbDfu, EmulatedUsbBus } from "../../harness/devices/stm32/dfu/index.js";
import { loadImage } from "../../harness/protocol/dfu/index.js";
import { parseFault } from "../../harness/sim/faults.js";
import { VirtualClock } from "../../harness/sim/virtual-clock.js";

const ROM = { vendorId: 0x0483, productId: 0xdf11 };
const BASE = 0x0800_0000;

async function l432(faults: string[]) {
  const clock = new VirtualClock();
  const device = new Stm32Device({ clock, seed: 9, profile: "stm32l432kc", faults: faults.map(parseFault) });
  const port = attachUsbDfu(device);
  await device.power.on();
  const client = await DfuClient.open(new EmulatedUsbBus([port], clock), ROM, {
    clock,
    alt: 0,
    timeouts: { enumerateMs: 5000 },
  });
  return { clock, device, client };
}

describe("devices: time:MS faults fire on the device clock", () => {
  it("time:MS=power-cut drops the rail mid-download: the host's download fails, the flash keeps what was written", async () => {
    // Armed from the rig's fault list, 1 s after the ROM has enumerated: past the erase of the
    // 32 pages (about 0.8 s), a few blocks into programming.
    const { clock: probe } = await l432([]);
    const at = Math.ceil(probe.now()) + 1000;
    const { clock, device, client } = await l432([`time:${at}=power-cut`]);
    const data = new Uint8Array(64 * 1024).map((_, i) => (i * 13) & 0xff);
    const error = await client.download(loadImage("app.bin", data, { address: BASE })).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error, "the download outlived the power cut").to.be.instanceOf(Error);
    expect(device.power.isOn).to.equal(false);
    expect(device.faults.fired.map((f) => [f.t, f.detail])).to.deep.equal([[at, `time ${at} ms`]]);
    expect(
      device.events.some((e) => e.kind === "power" && e.detail.includes(`fault at time ${at} ms`)),
    ).to.equal(true);
    expect(clock.now()).to.be.at.least(at);
    // The erase and the first blocks happened before the cut, the last blocks never; the
    // last pages were never reached (read with the board powered again).
    await device.power.on();
    expect([...device.chip.flash.read(BASE, 16)]).to.deep.equal([...data.subarray(0, 16)]);
    expect([...device.chip.flash.read(BASE + 60 * 1024, 16)]).to.deep.equal(new Array(16).fill(0xff));
  });

  it("a plan swapped in before the time disarms it; a time fault added later fires", async () => {
    const { clock, device } = await l432(["time:100000=power-cut"]);
    device.faults.replace([]);
    await clock.sleep(100_000);
    expect(device.power.isOn).to.equal(true);
    const at = Math.ceil(clock.now()) + 50;
    device.faults.add(parseFault(`time:${at}=power-cut`));
    await clock.sleep(100);
    expect(device.power.isOn).to.equal(false);
    expect(device.faults.fired.map((f) => f.t)).to.deep.equal([at]);
  });

  it("hil run refuses a fault that cannot act at a time, naming it, before anything runs (exit 2)", async () => {
    const err = console.error;
    const lines: string[] = [];
    console.error = (...a: unknown[]) => lines.push(a.join(" "));
    try {
      expect(await main(["run", "--fault", "time:200=usb-stall"])).to.equal(2);
    } finally {
      console.error = err;
    }
    expect(lines.join("\n")).to.include(
      "fault time:200=usb-stall: only power-cut can fire at a time; usb-stall needs a flash-op: or event: position",
    );
  });
});
