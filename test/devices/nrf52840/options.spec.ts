import { expect } from "chai";
import { fixtureKey } from "../../../fixtures/mcuboot/generate.js";
import { SmpClient } from "../../../harness/clients/smp/index.js";
import { Nrf52840McubootDevice } from "../../../harness/devices/nrf52840-mcuboot/device.js";
import { type PublicKey, parseImage, publicOf } from "../../../harness/protocol/mcuboot/index.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";
import { app, goodKey } from "./helpers.js";

async function make(keys: PublicKey[], v1: Uint8Array, extra: { downgradePrevention?: boolean } = {}) {
  const clock = new VirtualClock();
  const dev = new Nrf52840McubootDevice({ clock, seed: 11, options: { keys, ...extra } });
  dev.program(dev.layout.primary.offset, v1);
  await dev.power.on();
  return { dev, client: new SmpClient(dev.port("console"), clock) };
}

describe("devices/nrf52840-mcuboot: build options", () => {
  it("Ed25519-provisioned MCUboot takes Ed25519-signed images and refuses P-256 ones", async () => {
    const ed = fixtureKey("test-only-ed25519");
    const v1 = app("1.0.0", 9000, ed);
    const { dev, client } = await make([publicOf(ed)], v1);
    expect(dev.runningVersion).to.equal("1.0.0");
    const p256 = app("2.0.0", 9000, goodKey);
    await client.upload(p256);
    await client.test(parseImage(p256).hash!);
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("1.0.0");
    const v2 = app("2.0.0", 9000, ed);
    await client.upload(v2);
    await client.test(parseImage(v2).hash!);
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("2.0.0");
  });

  it("downgrade prevention: a lower version is erased at boot instead of swapped; an upgrade goes through", async () => {
    const v2 = app("2.0.0", 9000);
    const { dev, client } = await make([publicOf(goodKey)], v2, { downgradePrevention: true });
    const old = app("1.5.0", 9000);
    await client.upload(old);
    await client.test(parseImage(old).hash!);
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("2.0.0");
    expect(dev.secondary.isErased(0, dev.secondary.size)).to.equal(true);
    expect(dev.events.map((e) => e.detail).join("\n")).to.match(
      /version 1\.5\.0 is lower than the running 2\.0\.0/,
    );
    const v3 = app("2.1.0", 9000);
    await client.upload(v3);
    await client.test(parseImage(v3).hash!);
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("2.1.0");
  });

  it("a primary image that fails validation is not started (BOOT_VALIDATE_SLOT0)", async () => {
    const bad = app("1.0.0", 9000).slice();
    bad[0x300]! ^= 1;
    const { dev } = await make([publicOf(goodKey)], bad);
    expect(dev.state).to.equal("no-image");
  });
});
