import { expect } from "chai";
import { STACK_1 } from "../../fixtures/fus/build.js";
import { covers, forEachBoard, getRig } from "../../harness/index.js";
import { factoryReset, need, openFus, requireFactoryState, TRANSPORTS } from "./fixture.js";
import { fusPowerCutSweep } from "./sweep.js";

/** AN5185 Table 3 "Other failures": power interruption during FUS operations. */
const rig = getRig();
const CLAUSE = "AN5185 Table 3 Other failures (power interruption during FUS operation)";

describe("stm32-fus: power interruption", () => {
  for (const transport of TRANSPORTS) {
    describe(transport, () => {
      // Protocol-event cut: works on lab rigs too (the client's trace event, the rig's power backend).
      forEachBoard(rig, need(transport, "power-cut"), (board) => {
        covers(CLAUSE, "AN5185 §2.1.1 install");
        it("a power cut after the first FUS reset of an install: FUS recovers and a repeated install succeeds", async function () {
          await requireFactoryState(this, board);
          await factoryReset(board, { stack: false });
          let cut = false;
          const client = await openFus(board, transport, {
            offlineTimeoutMs: 5000,
            onTrace: (e) => {
              if (e.kind === "no-answer" && !cut) {
                cut = true;
                void board.power.off();
              }
            },
          });
          const image = STACK_1();
          await client.fwUpgrade(image).catch(() => {});
          expect(cut, "the install reached a FUS reset").to.equal(true);
          await client.link.close();
          await board.power.on();
          await board.clock.sleep(15_000);
          const again = await openFus(board, transport);
          const s = await again.startFus();
          expect(s.stateName, "FUS back to its default state").to.equal("IDLE");
          await again.fwUpgrade(image);
          expect((await again.readDeviceInfo()).wirelessStackVersion >>> 8).to.equal(0x010000);
          await again.link.close();
        });
      });
    });
  }

  // Every internal FUS flash operation (emulator only: cuts placed and checked from inside), over USB DFU.
  forEachBoard(rig, need("usb-dfu", "power-cut", "flash-faults", "inspect"), (board) => {
    for (const scenario of ["install", "upgrade", "fus-upgrade"] as const)
      for (const torn of [false, true]) {
        covers(
          CLAUSE,
          scenario === "fus-upgrade" ? "AN5185 §3 FUS upgrade" : "AN5185 §2.1 install and upgrade",
        );
        it(`${scenario}: a ${torn ? "torn" : "clean"} cut before any FUS flash operation recovers`, async () => {
          const r = await fusPowerCutSweep(board, "usb-dfu", scenario, { torn });
          expect(r.points).to.be.above(4);
          expect(r.failures, `${r.failures.length} of ${r.points} cut points failed`).to.deep.equal([]);
        });
      }
  });
});
