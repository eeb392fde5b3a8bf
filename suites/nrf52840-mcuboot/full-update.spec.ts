import { expect, use } from "chai";
import { covers, flashChai, forEachBoard, getRig } from "../../harness/index.js";
import { BootFlagState, BootMagicState } from "../../harness/protocol/mcuboot/index.js";
import { factory, hashOf, mcubootHooks, signedApp, slotBytes, trailers } from "./fixture.js";

use(flashChai);

const rig = getRig();
const SEED_STEP3 = "Nordic DevAcademy nRF Connect SDK Intermediate L9 E2 step 3 (custom key, upload, reset)";
const STATE_TABLE =
  "MCUboot design.md: cross-reset sequence (test, confirm, revert) / smp_group_1 image state";

describe("mcuboot: full update over SMP (MCUboot swap-using-move)", () => {
  forEachBoard(rig, { family: "nrf52840", capabilities: ["usart"] }, (board) => {
    mcubootHooks(board);

    covers(SEED_STEP3, STATE_TABLE);
    it("custom-key image: upload → test → reset runs it unconfirmed → confirm → reset keeps it", async () => {
      const v1 = signedApp(board, "1.0.0", 9000);
      const v2 = signedApp(board, "1.1.0", 12000);
      const s = await factory(board, v1);
      await s.client.upload(v2);
      let list = await s.client.list();
      expect(list[1]).to.deep.include({
        slot: 1,
        version: "1.1.0",
        hash: hashOf(v2),
        bootable: true,
        pending: false,
      });
      list = await s.client.test(hashOf(v2));
      expect(list[1]).to.include({ pending: true, confirmed: false, permanent: false });
      await s.reset();
      expect(await s.running()).to.equal("1.1.0");
      list = await s.client.list();
      expect(
        list.map(({ slot, version, active, confirmed, pending }) => ({
          slot,
          version,
          active,
          confirmed,
          pending,
        })),
      ).to.deep.equal([
        { slot: 0, version: "1.1.0", active: true, confirmed: false, pending: false },
        { slot: 1, version: "1.0.0", active: false, confirmed: true, pending: false },
      ]);
      list = await s.client.confirm();
      expect(list[0]).to.include({ active: true, confirmed: true });
      if (s.dev)
        expect(trailers(s.dev).primary).to.include({
          magic: BootMagicState.GOOD,
          imageOk: BootFlagState.SET,
          copyDone: BootFlagState.SET,
        });
      await s.reset();
      expect(await s.running()).to.equal("1.1.0");
      if (s.dev) expect(slotBytes(s.dev, 0, v2.length)).to.equalBytes(v2);
      expect((await s.client.list())[1]).to.include({ version: "1.0.0", confirmed: false, pending: false });
    });

    covers(STATE_TABLE);
    it("revert: tested but not confirmed → the next reset brings the old image back, confirmed", async () => {
      const v1 = signedApp(board, "1.0.0", 9000);
      const v2 = signedApp(board, "1.1.0", 12000);
      const s = await factory(board, v1);
      await s.client.upload(v2);
      await s.client.test(hashOf(v2));
      await s.reset();
      expect(await s.running()).to.equal("1.1.0");
      await s.reset();
      expect(await s.running()).to.equal("1.0.0");
      const list = await s.client.list();
      expect(list[0]).to.include({ version: "1.0.0", active: true, confirmed: true });
      expect(list[1]).to.include({ version: "1.1.0", pending: false, confirmed: false });
      if (s.dev) {
        expect(trailers(s.dev).primary).to.include({
          magic: BootMagicState.GOOD,
          imageOk: BootFlagState.SET,
        });
        expect(slotBytes(s.dev, 0, v1.length)).to.equalBytes(v1);
        expect(slotBytes(s.dev, 1, v2.length)).to.equalBytes(v2);
      }
      // The reverted image can be tested again.
      expect((await s.client.test(hashOf(v2)))[1]).to.include({ pending: true });
    });

    covers(STATE_TABLE);
    it("permanent: confirm with the secondary's hash before reset → swapped and confirmed in one boot", async () => {
      const v1 = signedApp(board, "1.0.0", 9000);
      const v2 = signedApp(board, "2.0.0", 7000);
      const s = await factory(board, v1);
      await s.client.upload(v2);
      expect((await s.client.confirm(hashOf(v2)))[1]).to.include({ pending: true, permanent: true });
      await s.reset();
      expect(await s.running()).to.equal("2.0.0");
      expect((await s.client.list())[0]).to.include({ active: true, confirmed: true });
      await s.reset();
      expect(await s.running()).to.equal("2.0.0");
    });
  });
});
