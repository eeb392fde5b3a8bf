/**
 * The `fusVersion` option: the FUS a WB55 leaves the factory with (the fact sheet names 0.5.3,
 * 1.0.1, 1.1.1, 1.2.0, 2.2.0). It is what the device information table reports and what the
 * rollback check compares a FUS image with; a factory reset comes back to it.
 */
import { expect } from "chai";
import { buildFusImage, v } from "../../../fixtures/fus/build.js";
import { FusClientError } from "../../../harness/clients/fus/index.js";
import { EmulatorOptionError } from "../../../harness/devices/option-error.js";
import { FACTORY_FUS_VERSION, factoryFusVersion } from "../../../harness/devices/stm32/fus/cpu2.js";
import { factoryResetStm32 } from "../../../harness/devices/stm32/strategy.js";
import { formatVersion } from "../../../harness/protocol/fus/index.js";
import { fusBench } from "./helpers.js";

describe("devices/stm32wb55: the factory FUS version (option fusVersion)", () => {
  it("the device information table reports the version given; 1.2.0 without the option", async () => {
    for (const [given, word] of [
      ["1.1.1", 0x0101_0100],
      ["0.5.3", 0x0005_0300],
      ["2.2.0", 0x0202_0000],
      [undefined, 0x0102_0000],
    ] as const) {
      const { client } = await fusBench(
        "usart",
        given === undefined ? {} : { options: { fusVersion: given } },
      );
      const info = await client.readDeviceInfo();
      expect(info.fusVersion, String(given)).to.equal(word);
    }
    expect(FACTORY_FUS_VERSION).to.equal(0x0102_0000);
  });

  it("the rollback check compares with it: FUS 2.2.0 upgrades a 1.2.0 part, is refused by a 2.2.0 one", async () => {
    const img = () => buildFusImage({ kind: "fus", version: v(2, 2, 0), sectors: 8, label: "fus-2.2.0" });
    const older = await fusBench("usb-dfu", { factoryStack: false });
    await older.client.fwUpgrade(img());
    expect(formatVersion((await older.client.readDeviceInfo()).fusVersion)).to.equal("2.2.0");
    const same = await fusBench("usb-dfu", { factoryStack: false, options: { fusVersion: "2.2.0" } });
    const e = await same.client.fwUpgrade(img()).catch((x) => x as FusClientError);
    expect(e).to.be.instanceOf(FusClientError);
    expect((e as FusClientError).fusError).to.equal("FW_ROLLBACK_ERROR");
  });

  it("a factory reset returns to the part's own factory FUS, not 1.2.0", async () => {
    const { dev } = await fusBench("usart", { options: { fusVersion: "1.1.1" } });
    dev.fus!.nv.fusVersion = 0x0202_0000;
    await factoryResetStm32(dev, { stack: false });
    expect(formatVersion(dev.fus!.nv.fusVersion)).to.equal("1.1.1");
  });

  it("anything but MAJOR.MINOR.SUB in 0..255 is refused, naming the option", () => {
    for (const bad of ["1.2", "1.2.0.1", "v1.2.0", "1.256.0", 1.2, "", true])
      expect(() => factoryFusVersion({ fusVersion: bad }), String(bad)).to.throw(
        EmulatorOptionError,
        /emulator option fusVersion: expected a FUS version MAJOR\.MINOR\.SUB/,
      );
    expect(factoryFusVersion({ fusVersion: "255.0.9" })).to.equal(0xff00_0900);
    expect(factoryFusVersion({})).to.equal(FACTORY_FUS_VERSION);
  });
});
