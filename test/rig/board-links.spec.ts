/**
 * Ports a lab board's test left open are closed after it (a test failing mid-transfer never
 * reaches its own close), so the next test can open them and the run can end; links shared
 * by a board's tests are closed after the last of them.
 */
import { expect } from "chai";
import { boardLinkHooks } from "../../harness/mocha/board-link-hooks.js";
import { closeBoardLinks, trackBoardLink } from "../../harness/rig/board-links.js";
import { createBytePair } from "../../harness/transport/byte-pair.js";
import { fakeBoard } from "./fake-board.js";

describe("rig/board-links", () => {
  it("closes the board's test-scoped links still open, names them, and leaves shared and other boards' links", async () => {
    const left = createBytePair({ name: "ttyACM0" }).host;
    const closedByTest = createBytePair({ name: "ttyACM1" }).host;
    const shared = createBytePair({ name: "ttyACM2" }).host;
    const otherBoard = createBytePair({ name: "ttyACM3" }).host;
    trackBoardLink("links-a", left);
    trackBoardLink("links-a", closedByTest);
    trackBoardLink("links-a", shared, "board");
    trackBoardLink("links-b", otherBoard);
    await closedByTest.close();

    expect(await closeBoardLinks("links-a", "test")).to.deep.equal(["ttyACM0:host"]);
    expect(left.closed).to.equal(true);
    expect(shared.closed).to.equal(false);
    expect(otherBoard.closed).to.equal(false);
    expect(await closeBoardLinks("links-a", "test"), "nothing twice").to.deep.equal([]);

    expect(await closeBoardLinks("links-a", "board")).to.deep.equal(["ttyACM2:host"]);
    expect(shared.closed).to.equal(true);
    expect(await closeBoardLinks("links-never-opened", "board")).to.deep.equal([]);
    await otherBoard.close();
  });

  describe("hooks on a lab board", () => {
    const lab = fakeBoard({ id: "links-lab", family: "stm32l432", emulated: false });
    const emulated = fakeBoard({ id: "links-emulated", family: "stm32l432" });
    const leftOpen = createBytePair({ name: "lab-port" }).host;
    const session = createBytePair({ name: "lab-session" }).host;
    const emulatedLink = createBytePair({ name: "emulated-port" }).host;

    describe("the board's tests", () => {
      boardLinkHooks(lab);
      boardLinkHooks(emulated);

      it("a test leaves its port and a shared session open (as one failing mid-transfer would)", () => {
        trackBoardLink(lab.id, leftOpen);
        trackBoardLink(lab.id, session, "board");
        trackBoardLink(emulated.id, emulatedLink);
      });

      it("the next test finds the port closed, the shared session still open", () => {
        expect(leftOpen.closed).to.equal(true);
        expect(session.closed).to.equal(false);
      });
    });

    // A sibling describe: mocha runs a suite's own tests before its nested suites.
    describe("after them", () => {
      it("the shared session is closed too; emulated boards get no hooks", async () => {
        expect(session.closed).to.equal(true);
        expect(emulatedLink.closed).to.equal(false);
        await emulatedLink.close();
      });
    });
  });
});
