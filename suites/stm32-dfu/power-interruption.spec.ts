import { expect } from "chai";
import { covers, everyPoint, forEachBoard, getRig } from "../../harness/index.js";
import { DFU_FAMILIES } from "./fixture.js";
import { powerCutSweep } from "./sweep.js";

/**
 * Power cuts during a DfuSe update: after every DNLOAD block (a sample of three on a lab
 * rig) and, on the emulator, before every flash operation, clean and torn. After each cut
 * the board powers on into the bootloader or an intact vector table, and a second full
 * update leaves the flash byte-exact with the application running.
 */
const rig = getRig();
const IMAGE = 16 * 1024;
const CLAUSE = "design.md: power-fail loop; AN3156 §5 (download), AN2606 Pattern 16 (boot after reset)";

describe("stm32-dfu: power interruption during an update", () => {
  forEachBoard(rig, { family: [...DFU_FAMILIES], capabilities: ["usb-dfu", "power-cut"] }, (board) => {
    covers(CLAUSE);
    it("a cut after any DNLOAD block recovers with a second full update", async () => {
      const sample = (total: number) =>
        [...everyPoint(total)].filter((k) => board.emulated || k === 1 || k === total || k === total >> 1);
      const r = await powerCutSweep(board, {
        imageSize: IMAGE,
        cut: { kind: "dnload-block" },
        points: sample,
      });
      expect(r.points).to.be.above(2);
      expect(r.failures, `${r.failures.length} of ${r.points} cut points failed`).to.deep.equal([]);
    });
  });

  forEachBoard(
    rig,
    { family: [...DFU_FAMILIES], capabilities: ["usb-dfu", "power-cut", "flash-faults"] },
    (board) => {
      for (const torn of [false, true]) {
        covers(CLAUSE);
        it(`a ${torn ? "torn" : "clean"} cut before any flash operation recovers with a second full update`, async () => {
          const r = await powerCutSweep(board, { imageSize: IMAGE, cut: { kind: "flash-op", torn } });
          expect(r.points).to.be.at.least(IMAGE / 2048);
          expect(r.failures, `${r.failures.length} of ${r.points} cut points failed`).to.deep.equal([]);
          if (!torn) expect(Object.keys(r.outcomes)).to.not.include("halted");
        });
      }
    },
  );
});
