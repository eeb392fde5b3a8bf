import * as chai from "chai";
import { expect, use } from "chai";
import { buildFusImage, STACK_1, STACK_2, v } from "../../fixtures/fus/build.js";
import { fusTraceChai } from "../../harness/clients/fus/index.js";
import { covers, flashChai, forEachBoard, getRig } from "../../harness/index.js";
import { isNotRunning, SBRV_FUS } from "../../harness/protocol/fus/index.js";
import { factoryReset, need, openFus, requireFactoryState, TRANSPORTS, wb55 } from "./fixture.js";

use(flashChai);

/** FUS flows as AN5185 §1.2, §2, §3 describe them, over each bootloader transport. */
chai.use(fusTraceChai);
const rig = getRig();
const PAGE = 4096;
const FLASH = 0x0800_0000;

describe("stm32-fus: full flows", () => {
  for (const transport of TRANSPORTS) {
    describe(transport, () => {
      forEachBoard(rig, need(transport), (board) => {
        covers("AN5185 Table 1 FUS activation cases", "AN5185 §1.2 SBRV 0x3D800");
        it("activates FUS from a running stack: NOT_RUNNING, then the second GET_STATE reboots into FUS", async function () {
          await requireFactoryState(this, board);
          await factoryReset(board);
          const client = await openFus(board, transport);
          const before = await client.readDeviceInfo();
          expect(before.lastFusActiveState, "Last FUS active state: stack running").to.equal(0x04);
          await client.startFus();
          expect(client.trace).to.follow(["NOT_RUNNING", "reset", "IDLE"]);
          const { sbrv } = await client.readSecureBoundaries();
          expect(sbrv).to.equal(SBRV_FUS);
          expect((await client.readDeviceInfo()).lastFusActiveState).to.not.equal(0x04);
          await client.link.close();
        });

        covers(
          "AN5185 §2.2 wireless stack delete",
          "AN5185 §2.1 wireless stack install",
          "AN5185 §2.1.1 install address",
          "fact sheet §5.6 ST image shape (footers from the end, source byte 0x57, magics)",
          "fact sheet §5.7 release notes install addresses (1 MB part)",
        );
        it("deletes the stack (secure area back to the FUS), then a first install runs the stack", async function () {
          await requireFactoryState(this, board);
          await factoryReset(board);
          const client = await openFus(board, transport);
          await client.fwDelete();
          expect(client.trace).to.follow(["NOT_RUNNING", "reset", "IDLE", "FW_UPGRD_ONGOING|reset+", "IDLE"]);
          const empty = await client.readDeviceInfo();
          expect(empty.stackInstalled).to.equal(false);
          expect((await client.readSecureBoundaries()).sfsa).to.equal(0xf4);
          const image = STACK_1();
          const from = client.trace.length;
          const { address } = await client.fwUpgrade(image);
          expect(address, "release notes: 0x080F4000 − the file in sectors (BLE_HCILayer 1.24.0)").to.equal(
            0x080e1000,
          );
          expect(client.trace.slice(from)).to.follow([
            "IDLE",
            "FW_UPGRD_ONGOING",
            "FW_UPGRD_ONGOING|reset+",
            "NOT_RUNNING",
          ]);
          const info = await client.readDeviceInfo();
          expect(info.wirelessStackVersion >>> 8).to.equal(0x010000);
          expect(
            (await client.readSecureBoundaries()).sfsa,
            "installed where it was loaded (§2.1.2)",
          ).to.equal((address - FLASH) / PAGE);
          const dev = wb55(board);
          if (dev) {
            expect(dev.fus!.mode).to.equal("stack");
            expect(dev.fus!.fusResets).to.be.at.least(2);
            // Installed in place: the whole file lies in its 19 sectors, footers included.
            expect(dev.chip.flash).to.hold({ address, bytes: image });
          }
          await client.link.close();
        });

        covers(
          "AN5185 §2.1 wireless stack upgrade",
          "AN5185 §2.1.1 install address",
          "AN5185 §2.1.2 memory considerations",
          "fact sheet §5.7 release notes install addresses (1 MB part)",
        );
        it("upgrades a running stack: loaded below it, moved to the top, the old one gone", async function () {
          await requireFactoryState(this, board);
          await factoryReset(board, { stack: false });
          const client = await openFus(board, transport);
          await client.fwUpgrade(STACK_1());
          const image = STACK_2();
          const { address } = await client.fwUpgrade(image);
          const info = await client.readDeviceInfo();
          expect(info.wirelessStackVersion >>> 8).to.equal(0x020000);
          const { sfsa } = await client.readSecureBoundaries();
          // A "FUSv2 only" stack (BLE_Stack_full's shape, 32 sectors) ends at 0x080F0000, where
          // the release notes put it: 0x080D0000.
          expect(sfsa).to.equal(0xf0 - 32);
          expect(address).to.be.below(FLASH + sfsa * PAGE);
          const dev = wb55(board);
          if (dev) {
            expect(dev.chip.flash).to.hold({ address: FLASH + sfsa * PAGE, bytes: image });
            expect(
              dev.chip.flash.isErased(address, FLASH + sfsa * PAGE - address),
              "staging area freed",
            ).to.equal(true);
          }
          await client.link.close();
        });

        covers("AN5185 §2.3 wireless stack start");
        it("starts the installed wireless stack from FUS with START_WS", async function () {
          await requireFactoryState(this, board);
          await factoryReset(board);
          const client = await openFus(board, transport);
          await client.startFus();
          const from = client.trace.length;
          await client.startWirelessStack();
          expect(client.trace.slice(from)).to.follow(["reset+", "NOT_RUNNING"]);
          const last = client.trace.at(-1)!;
          expect(last.kind === "state" && isNotRunning(last)).to.equal(true);
          expect((await client.readSecureBoundaries()).sbrv).to.not.equal(SBRV_FUS);
          await client.link.close();
        });

        covers("AN5185 §3 FUS upgrade", "AN5185 §3.2 memory considerations");
        it("upgrades FUS itself; a bigger FUS moves the stack lower; a downgrade is refused", async function () {
          await requireFactoryState(this, board);
          await factoryReset(board);
          const client = await openFus(board, transport);
          const before = await client.readSecureBoundaries();
          const img = buildFusImage({ kind: "fus", version: v(2, 2, 0), sectors: 8, label: "fus-2.2.0" });
          await client.fwUpgrade(img);
          expect(client.labels()).to.include("FUS_UPGRD_ONGOING");
          const info = await client.readDeviceInfo();
          expect(info.fusVersion >>> 8).to.equal(0x020200);
          expect(info.stackInstalled).to.equal(true);
          expect((await client.readSecureBoundaries()).sfsa, "stack moved 2 sectors lower").to.equal(
            before.sfsa - 2,
          );
          const old = buildFusImage({ kind: "fus", version: v(1, 2, 0), sectors: 6, label: "fus-1.2.0" });
          const e = await client.fwUpgrade(old).catch((x: unknown) => x);
          expect((e as { fusError?: string }).fusError).to.equal("FW_ROLLBACK_ERROR");
          const dev = wb55(board);
          if (dev) expect(dev.fus!.nv.fusVersion >>> 8).to.equal(0x020200);
          await client.link.close();
        });
      });
    });
  }
});
