/**
 * Serial ports opened for a lab board, so none outlives what opened it. A test that fails
 * mid-transfer skips its own `close()`: the port would stay open, locked against the next
 * test of the board (and any other run), and an open port keeps the process alive after the
 * run, so a nightly never ends. `boardLinkHooks` (harness/mocha/board-link-hooks.ts) closes
 * what a test left open after it and what a board's tests shared after the last of them.
 */
import type { ByteStream } from "../transport/byte-stream.js";

/**
 * How long a link may live: `test` (the default) ends with the test that opened it; `board`
 * is shared by a board's tests (an SMP session) and ends after the last of them.
 */
export type LinkScope = "test" | "board";

const openLinks = new Map<string, Map<ByteStream, LinkScope>>();

/** Records `stream` as open for the board until it closes; returns it. */
export function trackBoardLink<S extends ByteStream>(
  boardId: string,
  stream: S,
  scope: LinkScope = "test",
): S {
  const links = openLinks.get(boardId) ?? new Map<ByteStream, LinkScope>();
  openLinks.set(boardId, links);
  links.set(stream, scope);
  stream.onClose(() => links.delete(stream));
  return stream;
}

/**
 * Closes the board's links still open: those of `scope` "test" only, or all of them.
 * Resolves to the names of the ports it closed.
 */
export async function closeBoardLinks(boardId: string, scope: LinkScope): Promise<string[]> {
  const links = openLinks.get(boardId);
  if (!links) return [];
  const left = [...links].filter(([stream, s]) => !stream.closed && (scope === "board" || s === "test"));
  await Promise.all(left.map(([stream]) => stream.close().catch(() => undefined)));
  for (const [stream] of left) links.delete(stream);
  return left.map(([stream]) => stream.name);
}
