/** The Mocha half of rig/board-links.ts: the hooks that close a lab board's ports. */
import type { Board } from "../rig/board.js";
import { closeBoardLinks } from "../rig/board-links.js";

/**
 * Inside a lab board's `describe`: after each test, closes the ports it left open (a warning
 * names them: a passing test should close its own); after the board's tests, all of them.
 */
export function boardLinkHooks(board: Board): void {
  if (board.emulated) return;
  afterEach(async () => {
    const closed = await closeBoardLinks(board.id, "test");
    if (closed.length > 0)
      console.warn(`hil: board ${board.id}: closed port(s) the test left open: ${closed.join(", ")}`);
  });
  after(async () => {
    await closeBoardLinks(board.id, "board");
  });
}
