import { expect, use } from "chai";
import { covers, flashChai, forEachBoard, getRig } from "../../harness/index.js";
import { BootFlagState, BootMagicState } from "../../harness/protocol/mcuboot/index.js";
import { factory, hashOf, mcubootHooks, signedApp, slotBytes, trailers, WRONG_KEY } from "./fixture.js";

use(flashChai);

const rig = getRig();
const SEED_STEP4 = "Nordic DevAcademy nRF Connect SDK Intermediate L9 E2 step 4 (wrong key must fail)";
const B4 = "MCUboot loader.c boot_validate_slot: invalid secondary is erased, swap type NONE";

describe("mcuboot: an image signed with another key", () => {
  forEachBoard(rig, { family: "nrf52840", capabilities: ["usart"] }, (board) => {
    mcubootHooks(board);

    covers(SEED_STEP4, B4);
    it("uploads and tests fine (the app does not check signatures), then MCUboot refuses it at reset", async () => {
      const v1 = signedApp(board, "1.0.0", 9000);
      const bad = signedApp(board, "1.1.0", 12000, WRONG_KEY);
      const s = await factory(board, v1);
      await s.client.upload(bad);
      const listed = await s.client.list();
      expect(listed[1]).to.include({
        slot: 1,
        version: "1.1.0",
        bootable: true,
        pending: false,
        confirmed: false,
      });
      expect((await s.client.test(hashOf(bad)))[1]).to.include({ pending: true });
      await s.reset();
      expect(await s.running(), "the old image runs").to.equal("1.0.0");
      // The list is how a lab sees the erased secondary: slot 1 is gone.
      const list = await s.client.list();
      expect(
        list.map((i) => ({ slot: i.slot, version: i.version, active: i.active, confirmed: i.confirmed })),
      ).to.deep.equal([{ slot: 0, version: "1.0.0", active: true, confirmed: true }]);
      if (s.dev) {
        expect(s.dev.secondary.isErased(0, s.dev.secondary.size), "the secondary slot is erased").to.equal(
          true,
        );
        expect(slotBytes(s.dev, 0, v1.length)).to.equalBytes(v1);
        expect(trailers(s.dev).primary).to.include({
          magic: BootMagicState.UNSET,
          imageOk: BootFlagState.UNSET,
        });
      }
    });

    covers("Nordic DevAcademy nRF Connect SDK Intermediate L9 E2 step 5 (update again with the right key)");
    it("after the refusal a correctly signed image can be uploaded and installed (seed step 5)", async () => {
      const v1 = signedApp(board, "1.0.0", 9000);
      const s = await factory(board, v1);
      const bad = signedApp(board, "1.1.0", 12000, WRONG_KEY);
      await s.client.upload(bad);
      await s.client.test(hashOf(bad));
      await s.reset();
      const good = signedApp(board, "1.1.0", 12000);
      await s.client.upload(good);
      await s.client.test(hashOf(good));
      await s.reset();
      expect(await s.running()).to.equal("1.1.0");
    });
  });
});
