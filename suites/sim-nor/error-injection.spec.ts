import { expect, use } from "chai";
import { covers, flashChai, forEachBoard, getRig } from "../../harness/index.js";
import { factoryReset, images, simNor, slot } from "./fixture.js";

use(flashChai);

const rig = getRig();
const CLAUSE = "design.md: FaultPlan (flash program failure, bit flip)";

describe("sim-nor: flash error injection", () => {
  forEachBoard(rig, { family: "sim-nor", capabilities: ["flash-faults", "inspect"] }, (board) => {
    covers(CLAUSE);
    it(`a bit flipped while staging is caught before the swap and the old image keeps running`, async () => {
      const dev = simNor(board);
      const { v1, v2 } = images(board);
      await factoryReset(board, v1);
      await dev.power.on();
      const start = dev.flash.counters.ops;
      // Staging: 5 erases (log + 4 slot sectors), then the image rows; flip a bit in row 3.
      dev.faults.add({ where: { at: "flash-op", op: start + 8 }, what: { do: "bit-flip" } });
      await dev.stage(v2);
      expect(slot(dev, "secondary", v2.length)).not.to.equalBytes(v2);
      await dev.requestInstall();
      await dev.power.cycle();
      expect(dev.runningVersion).to.equal(1);
      expect(slot(dev, "primary", v1.length)).to.equalBytes(v1);
      expect(dev.events.map((e) => e.detail)).to.include("staged image does not verify: install abandoned");
    });

    covers(CLAUSE);
    it(`a failed program during the swap stops the boot; the next boot completes the install`, async () => {
      const dev = simNor(board);
      const { v1, v2 } = images(board);
      await factoryReset(board, v1);
      await dev.power.on();
      await dev.stage(v2);
      await dev.requestInstall();
      await dev.power.off();
      const programs = dev.flash.counters.programs;
      const firedBefore = dev.faults.firedCount;
      dev.faults.add({
        where: { at: "flash-op", kind: "program", op: programs + 5 },
        what: { do: "flash-fail" },
      });
      const err = await dev.power.on().catch((e: Error) => e);
      expect(err).to.be.instanceOf(Error).with.property("name", "UpdateError");
      expect(dev.faults.firedSince(firedBefore).map((f) => f.fault.what.do)).to.deep.equal(["flash-fail"]);
      expect(dev.runningVersion).to.equal(undefined);
      await dev.power.cycle();
      expect(dev.runningVersion).to.equal(2);
      expect(slot(dev, "primary", v2.length)).to.equalBytes(v2);
    });
  });
});
