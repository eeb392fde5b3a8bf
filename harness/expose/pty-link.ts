/**
 * The path a pty is served at (`--uart-pty PATH`): socat replaces whatever is there with its
 * symbolic link and deletes it at the end, so what is at PATH is looked at first.
 *
 * - Nothing there: free.
 * - A stale link of ours: a symbolic link to /dev/pts/N (what socat's `link=` makes) whose
 *   pty no longer exists, left by a socat that was killed before it could remove it (devpts
 *   drops /dev/pts/N when the last holder closes it). Removed.
 * - Anything else is refused and left as it is: a regular file, a directory, a link to
 *   anything but /dev/pts/N (a user's link to /dev/ttyUSB0), and a link to a pty that exists
 *   (another emulator serving the same PATH; or, rarely, a pty number reused since).
 */
import { lstat, readlink, rm, stat } from "node:fs/promises";
import { type ErrorCategory, HilError } from "../seams/errors.js";

/** What is at the path is not ours to replace. */
export class PtyPathTakenError extends HilError {
  static override readonly category: ErrorCategory = "usage";
  override name = "PtyPathTakenError";
  constructor(
    readonly path: string,
    what: string,
  ) {
    super(`${path} ${what}; refusing to replace it (remove it or choose another path)`);
  }
}

const PTY_TARGET = /^\/dev\/pts\/\d+$/;

/**
 * Makes `link` free for a new pty link: removes a stale link of ours.
 * @returns the pty the removed stale link pointed to, undefined when nothing was there.
 * @throws {PtyPathTakenError} naming what is there when it is anything else.
 */
export async function freePtyPath(link: string): Promise<string | undefined> {
  let kind: Awaited<ReturnType<typeof lstat>>;
  try {
    kind = await lstat(link);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  if (!kind.isSymbolicLink()) throw new PtyPathTakenError(link, `is ${describe(kind)}`);
  const target = await readlink(link);
  if (!PTY_TARGET.test(target))
    throw new PtyPathTakenError(link, `is a symbolic link to ${target}, not to a pty (/dev/pts/N)`);
  if (await exists(target))
    throw new PtyPathTakenError(link, `links to ${target}, a pty in use (another hil emulate serving it?)`);
  await rm(link);
  return target;
}

/** Removes `link` if it still points to `pty` (it is ours); leaves anything put there since. */
export async function removeOwnLink(link: string, pty: string): Promise<void> {
  const target = await readlink(link).catch(() => undefined);
  if (target === pty) await rm(link, { force: true });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw e;
  }
}

function describe(s: Awaited<ReturnType<typeof lstat>>): string {
  if (s.isFile()) return "a regular file";
  if (s.isDirectory()) return "a directory";
  if (s.isCharacterDevice()) return "a character device";
  if (s.isBlockDevice()) return "a block device";
  if (s.isFIFO()) return "a FIFO";
  if (s.isSocket()) return "a socket";
  return "not a symbolic link";
}
