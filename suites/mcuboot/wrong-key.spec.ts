import { expect } from "chai";
import { BootFlagState, BootMagicState } from "../../harness/protocol/mcuboot/index.js";
import { clause } from "../../harness/report/clause.js";
import { getRig } from "../../harness/rig/rig.js";
import { forEachBoard } from "../../harness/rig/suite.js";
import { factory, hashOf, rebooted, signedApp, slotBytes, trailers, WRONG_KEY } from "./fixture.js";

const rig = getRig();
const SEED_STEP4 = "Nordic DevAcademy nRF Connect SDK Intermediate L9 E2 step 4 (wrong key must fail)";
const B4 = "MCUboot loader.c boot_validate_slot: invalid secondary is erased, swap type NONE";

describe("mcuboot: an image signed with another key", () => {
  forEachBoard(rig, { family: "nrf52840", capabilities: ["usart"] }, (board) => {
    it("uploads and tests fine (the app does not check signatures), then MCUboot refuses it at reset", async () => {
      await clause(SEED_STEP4, B4);
      const v1 = signedApp(board, "1.0.0", 9000);
      const bad = signedApp(board, "1.1.0", 12000, WRONG_KEY);
      const { dev, client } = await factory(board, v1);
      await client.upload(bad);
      const listed = await client.list();
      expect(listed[1]).to.include({
        slot: 1,
        version: "1.1.0",
        bootable: true,
        pending: false,
        confirmed: false,
      });
      expect((await client.test(hashOf(bad)))[1]).to.include({ pending: true });
      await client.reset();
      await rebooted(dev);
      expect(dev.runningVersion, "the old image runs").to.equal("1.0.0");
      expect(dev.secondary.isErased(0, dev.secondary.size), "the secondary slot is erased").to.equal(true);
      expect(slotBytes(dev, 0, v1.length)).to.deep.equal(v1);
      const list = await client.list();
      expect(
        list.map((i) => ({ slot: i.slot, version: i.version, active: i.active, confirmed: i.confirmed })),
      ).to.deep.equal([{ slot: 0, version: "1.0.0", active: true, confirmed: true }]);
      expect(trailers(dev).primary).to.include({ magic: BootMagicState.UNSET, imageOk: BootFlagState.UNSET });
    });

    it("after the refusal a correctly signed image can be uploaded and installed (seed step 5)", async () => {
      await clause(
        "Nordic DevAcademy nRF Connect SDK Intermediate L9 E2 step 5 (update again with the right key)",
      );
      const v1 = signedApp(board, "1.0.0", 9000);
      const { dev, client } = await factory(board, v1);
      const bad = signedApp(board, "1.1.0", 12000, WRONG_KEY);
      await client.upload(bad);
      await client.test(hashOf(bad));
      await client.reset();
      await rebooted(dev);
      const good = signedApp(board, "1.1.0", 12000);
      await client.upload(good);
      await client.test(hashOf(good));
      await client.reset();
      await rebooted(dev);
      expect(dev.runningVersion).to.equal("1.1.0");
    });
  });
});
