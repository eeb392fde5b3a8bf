import { expect, use } from "chai";
import {
  bytesEqual,
  covers,
  flashChai,
  flashOpCut,
  forEachBoard,
  getRig,
  sweep,
} from "../../harness/index.js";
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

          const start = dev.flash.counters.ops;
          const { failures, total } = await sweep({
            // Count the operations of an uninterrupted install from the same state.
            count: async () => {
              await dev.power.on();
              const installOps = dev.flash.counters.ops - start;
              expect(installOps, "a clean install erases and programs").to.be.above(12);
              return installOps;
            },
            label: (n) => `cut before op ${n}`,
            run: async (n) => {
              await dev.power.off();
              dev.flash.restore(staged);
              dev.flash.armCut(start + n, { torn });
              await dev.power.on(); // the install runs and is cut at operation n
            },
            check: async (_n, _total, thrown) => {
              if (thrown) throw thrown;
              expect(dev.state, "the cut stops the boot").to.equal("off");
              await dev.power.on(); // the next boot resumes it
              const primaryOk = bytesEqual(slot(dev, "primary", v2.length), v2);
              const secondaryOk = bytesEqual(slot(dev, "secondary", v1.length), v1);
              if (dev.runningVersion !== 2 || !primaryOk || !secondaryOk)
                return `running ${dev.runningVersion ?? "nothing"} (${dev.state}), primary ${primaryOk ? "v2" : "corrupt"}, secondary ${secondaryOk ? "v1" : "corrupt"}`;
              return undefined;
            },
          });
          expect(failures, `${failures.length} of ${total} cut points failed`).to.deep.equal([]);
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
        const cutBefore = flashOpCut(dev.flash, true);
        const { failures } = await sweep({
          count: async () => {
            await dev.stage(v2);
            return dev.flash.counters.ops - start;
          },
          label: (n) => `cut before staging op ${n}`,
          run: async (n) => {
            await dev.power.off();
            dev.flash.restore(before);
            await dev.power.on();
            cutBefore(n);
            await dev.stage(v2);
          },
          check: async (_n, _total, thrown) => {
            expect(thrown, "the cut").to.be.instanceOf(Error).with.property("name", "PowerLostError");
            await dev.power.on();
            expect(dev.runningVersion, "the running image after the cut").to.equal(1);
            expect(bytesEqual(slot(dev, "primary", v1.length), v1), "primary after the cut").to.equal(true);
            return undefined;
          },
        });
        expect(failures).to.deep.equal([]);
      });
    },
  );
});
