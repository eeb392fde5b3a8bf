import { expect } from "chai";
import { MAX_EVENTS } from "../../harness/devices/emulated-device.js";
import { SimNorDevice, UpdateError } from "../../harness/devices/sim-nor/device.js";
import { buildImage, verifyImage } from "../../harness/devices/sim-nor/image.js";
import { decodeRecord, encodeRecord, RecordKind } from "../../harness/devices/sim-nor/swap-log.js";
import { renderDeviceLog } from "../../harness/report/device-log.js";
import { parseFault } from "../../harness/sim/faults.js";
import { PowerLostError } from "../../harness/sim/power.js";
import { VirtualClock } from "../../harness/sim/virtual-clock.js";

const payload = (n: number, k: number) => new Uint8Array(n).map((_, i) => (i * k + 3) & 0xff);

describe("devices/sim-nor (synthetic A/B board on the emulator core)", () => {
  it("boots the primary image, installs a staged one on the next boot, and swaps the old one out", async () => {
    const clock = new VirtualClock();
    const dev = new SimNorDevice({ clock, seed: 1 });
    const v1 = buildImage(1, payload(3000, 5));
    const v2 = buildImage(2, payload(6000, 11));
    dev.flash.load(dev.slotAddress("primary"), v1);
    await dev.power.on();
    expect(dev.state).to.equal("running");
    expect(dev.runningVersion).to.equal(1);

    await dev.stage(v2);
    await dev.requestInstall();
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal(2);
    expect(dev.flash.peek(dev.slotAddress("primary"), v2.length)).to.deep.equal(v2);
    expect(dev.flash.peek(dev.slotAddress("secondary"), v1.length)).to.deep.equal(v1);
    // Device time includes the erases (22 ms each): 12 swap erases at least.
    expect(clock.now()).to.be.above(12 * 22);
    expect(dev.power.history.map((h) => h.event)).to.deep.equal(["on", "off", "on"]);
  });

  it("keeps a bounded event log whose marks survive dropping (a board lives for a whole run)", () => {
    const dev = new SimNorDevice({ clock: new VirtualClock(), seed: 1 });
    const mark = dev.eventCount;
    for (let i = 0; i < MAX_EVENTS; i++) dev.log("test", `event ${i}`);
    const late = dev.eventCount;
    for (let i = MAX_EVENTS; i < MAX_EVENTS + 10; i++) dev.log("test", `event ${i}`);
    expect(dev.events.length).to.be.at.most(MAX_EVENTS);
    expect(dev.eventCount).to.equal(mark + MAX_EVENTS + 10);
    expect(dev.events.at(-1)?.detail).to.equal(`event ${MAX_EVENTS + 9}`);
    // A mark still inside the log: exactly the events since, none dropped.
    expect(dev.eventsSince(late)).to.deep.include({ dropped: 0 });
    expect(dev.eventsSince(late).events.map((e) => e.detail)).to.deep.equal(
      Array.from({ length: 10 }, (_, i) => `event ${MAX_EVENTS + i}`),
    );
    // A mark from before the drop: what is left, and how many went.
    const since = dev.eventsSince(mark);
    expect(since.dropped + since.events.length).to.equal(MAX_EVENTS + 10);
    expect(since.events[0]?.detail).to.equal(`event ${since.dropped}`);
    expect(renderDeviceLog(dev, mark)).to.include(`(${since.dropped} earlier events dropped`);
  });

  it("reports no-image when the primary slot does not verify", async () => {
    const dev = new SimNorDevice({ clock: new VirtualClock(), seed: 1 });
    await dev.power.on();
    expect(dev.state).to.equal("no-image");
    expect(dev.runningVersion).to.equal(undefined);
  });

  it("a power cut from the fault plan ends in-flight work with PowerLostError and the board is off", async () => {
    const dev = new SimNorDevice({
      clock: new VirtualClock(),
      seed: 1,
      faults: [parseFault("flash-op:3=power-cut")],
    });
    await dev.power.on();
    const err = await dev.stage(buildImage(2, payload(4000, 3))).catch((e) => e);
    expect(err).to.be.instanceOf(PowerLostError);
    expect(await dev.power.state()).to.equal("off");
    expect(dev.state).to.equal("off");
    expect(dev.faults.fired.map((f) => f.detail)).to.deep.equal(["flash op 3 (erase 0x8002800+2048)"]);
  });

  it("refuses an image larger than the slot before touching flash", async () => {
    const dev = new SimNorDevice({ clock: new VirtualClock(), seed: 1 });
    await dev.power.on();
    const before = dev.flash.counters.ops;
    const err = await dev.stage(new Uint8Array(dev.slotSize + 1)).catch((e) => e);
    expect(err).to.be.instanceOf(UpdateError);
    expect(err.message).to.match(/8193 bytes, slot holds 8192/);
    expect(dev.flash.counters.ops).to.equal(before);
  });

  it("image and log codecs reject corruption", () => {
    const img = buildImage(7, payload(100, 1));
    expect(verifyImage(img)?.version).to.equal(7);
    const bad = img.slice();
    bad[50]! ^= 1;
    expect(verifyImage(bad)).to.equal(undefined);
    const rec = encodeRecord({ kind: RecordKind.Step, sector: 2, step: 1 });
    expect(decodeRecord(rec)).to.deep.equal({ kind: RecordKind.Step, sector: 2, step: 1 });
    rec[2] = 3;
    expect(decodeRecord(rec)).to.equal(undefined);
  });
});
