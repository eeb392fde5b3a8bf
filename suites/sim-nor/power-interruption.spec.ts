import { expect, use } from "chai";
import { covers, flashChai, forEachBoard, getRig } from "../../harness/index.js";
import { factoryReset, images, simNor, slot } from "./fixture.js";

use(flashChai);

/**
 * The power-fail loop of MCUboot's simulator, on the synthetic A/B board: count the flash
 * operations of a clean install, then for every N cut power before operation N (cleanly,
 * and torn), power on again and check that the board ends on exactly one whole image,
 * the new one, with the old one kept in the secondary slot. Every N is one sample; the
 * failures are listed together so one run shows the whole shape of a regression.
 */
const rig = getRig();
const CLAUSE = "design.md: Emulator rules (NOR flash, power-fail loop)";

describe("sim-nor: power interruption during an A/B install", () => {
  forEachBoard(
    rig,
    { family: "sim-nor", capabilities: ["power-cut", "flash-faults", "inspect"] },
    (board) => {
      covers(CLAUSE);
      it(`a clean install boots the new image`, async () => {
        const dev = simNor(board);
        const { v1, v2 } = images(board);
        await factoryReset(board, v1);
        await dev.power.on();
        expect(dev.runningVersion).to.equal(1);
        await dev.stage(v2);
        await dev.requestInstall();
        await dev.power.cycle();
        expect(dev.state).to.equal("running");
        expect(dev.runningVersion).to.equal(2);
        expect(slot(dev, "primary", v2.length)).to.equalBytes(v2);
        expect(slot(dev, "secondary", v1.length)).to.equalBytes(v1);
      });

      for (const torn of [false, true]) {
        covers(CLAUSE);
        it(`a power cut before any flash operation of the install, ${torn ? "torn" : "clean"}, still ends on the new image`, async () => {
          const dev = simNor(board);
          const { v1, v2 } = images(board);
          await factoryReset(board, v1);
          await dev.power.on();
          await dev.stage(v2);
          await dev.requestInstall();
          await dev.power.off();
          const staged = dev.flash.snapshot();

          // Count the operations of an uninterrupted install from the same state.
          const start = dev.flash.counters.ops;
          await dev.power.on();
          const installOps = dev.flash.counters.ops - start;
          expect(installOps, "a clean install erases and programs").to.be.above(12);

          const failures: string[] = [];
          for (let n = 1; n <= installOps; n++) {
            await dev.power.off();
            dev.flash.restore(staged);
            dev.flash.armCut(start + n, { torn });
            await dev.power.on(); // the install runs and is cut at operation n
            expect(dev.state, `cut before op ${n}`).to.equal("off");
            await dev.power.on(); // the next boot resumes it
            const primaryOk = equal(slot(dev, "primary", v2.length), v2);
            const secondaryOk = equal(slot(dev, "secondary", v1.length), v1);
            if (dev.runningVersion !== 2 || !primaryOk || !secondaryOk)
              failures.push(
                `cut before op ${n}: running ${dev.runningVersion ?? "nothing"} (${dev.state}), primary ${primaryOk ? "v2" : "corrupt"}, secondary ${secondaryOk ? "v1" : "corrupt"}`,
              );
          }
          expect(failures, `${failures.length} of ${installOps} cut points failed`).to.deep.equal([]);
        });
      }

      covers(CLAUSE);
      it(`a power cut while staging leaves the running image untouched`, async () => {
        const dev = simNor(board);
        const { v1, v2 } = images(board);
        await factoryReset(board, v1);
        await dev.power.on();
        const before = dev.flash.snapshot();
        const start = dev.flash.counters.ops;
        await dev.stage(v2);
        const stageOps = dev.flash.counters.ops - start;
        for (let n = 1; n <= stageOps; n++) {
          await dev.power.off();
          dev.flash.restore(before);
          await dev.power.on();
          dev.flash.armCut(dev.flash.counters.ops + n, { torn: true });
          const err = await dev.stage(v2).catch((e: Error) => e);
          expect(err, `cut before staging op ${n}`)
            .to.be.instanceOf(Error)
            .with.property("name", "PowerLostError");
          await dev.power.on();
          expect(dev.runningVersion, `after a cut before staging op ${n}`).to.equal(1);
          expect(equal(slot(dev, "primary", v1.length), v1), `primary after cut ${n}`).to.equal(true);
        }
      });
    },
  );
});

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
