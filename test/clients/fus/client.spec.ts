import { expect } from "chai";
import { buildFusImage, STACK_1, v } from "../../../fixtures/fus/build.js";
import { FusClientError } from "../../../harness/clients/fus/index.js";
import { OB } from "../../../harness/devices/stm32/option-bytes.js";
import { SBRV_FUS } from "../../../harness/protocol/fus/index.js";
import { fusBench, TRANSPORTS } from "../../devices/stm32-fus/helpers.js";

describe("clients/fus FusClient", () => {
  for (const transport of TRANSPORTS) {
    describe(transport, () => {
      it("starts FUS from a running stack with two GET_STATE (the second reboots)", async () => {
        const { dev, client } = await fusBench(transport);
        expect(dev.fus!.mode).to.equal("stack");
        const s = await client.startFus();
        expect(s.stateName).to.equal("IDLE");
        expect(dev.fus!.mode).to.equal("fus");
        expect(client.follows(["NOT_RUNNING", "reset", "IDLE"])).to.equal(true, client.labels().join(" "));
        expect(dev.chip.optionBytes.activeWord(OB.SBRV) & 0x3ffff).to.equal(SBRV_FUS);
      });

      it("deletes the stack, installs one on the empty device and runs it", async () => {
        const { dev, client } = await fusBench(transport);
        await client.fwDelete();
        expect(dev.fus!.nv.stack).to.equal(undefined);
        expect(dev.chip.optionBytes.activeWord(OB.SFSA) & 0xff, "the FUS area starts at 0x080F4000").to.equal(
          0xf4,
        );
        const from = client.trace.length;
        const image = STACK_1();
        const { address } = await client.fwUpgrade(image);
        // BLE_HCILayer 1.24.0's shape (76 104 B): the release notes' 0x080E1000 on a 1 MB part.
        expect(address).to.equal(0x080e1000);
        expect(
          client.follows(["IDLE", "FW_UPGRD_ONGOING", "FW_UPGRD_ONGOING|reset+", "NOT_RUNNING"], from),
        ).to.equal(true, client.labels(from).join(" "));
        expect(dev.fus!.mode).to.equal("stack");
        expect(dev.chip.optionBytes.activeWord(OB.SFSA) & 0xff).to.equal((address - 0x08000000) / 4096);
        const info = await client.readDeviceInfo();
        expect(info.wirelessStackVersion >>> 8).to.equal(0x010000);
        expect(info.lastFusActiveState).to.equal(0x04);
      });

      it("reports IMG_NOT_FOUND for a delete on an empty device", async () => {
        const { client } = await fusBench(transport, { factoryStack: false });
        const e = await client.fwDelete().then(
          () => undefined,
          (x) => x as FusClientError,
        );
        expect(e).to.be.instanceOf(FusClientError);
        expect(e!.fusError).to.equal("IMG_NOT_FOUND");
      });

      it("refuses a FUS downgrade and upgrades FUS", async () => {
        const { dev, client } = await fusBench(transport, { factoryStack: false });
        const old = buildFusImage({ kind: "fus", version: v(1, 1, 0), sectors: 6, label: "fus-old" });
        const e = await client.fwUpgrade(old).catch((x) => x as FusClientError);
        expect((e as FusClientError).fusError).to.equal("FW_ROLLBACK_ERROR");
        const img = buildFusImage({ kind: "fus", version: v(2, 2, 0), sectors: 8, label: "fus-new" });
        await client.fwUpgrade(img);
        const info = await client.readDeviceInfo();
        expect(info.fusVersion >>> 8).to.equal(0x020200);
        expect(dev.fus!.nv.fusBase, "an 8-sector FUS grows 2 sectors below 0x080F4000").to.equal(0xf2);
      });
    });
  }
});
