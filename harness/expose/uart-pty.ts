/**
 * Serves an emulated UART on a real pseudo-terminal, so outside programs (stm32flash, a
 * terminal) can talk to the emulator. socat, started and stopped here through execa,
 * creates the pty (symlinked at `link`) and relays it to its stdin/stdout, which the
 * emulator holds as a line. ptys refuse even parity: clients must open them 8N1.
 *
 * Ready means usable: `servePty` resolves once the link exists and points to the pty, and
 * socat relays (its "starting data transfer loop" notice comes after both ends are open;
 * "PTY is /dev/pts/N" comes before the link is made). What is at the link's path before is
 * looked at first (pty-link.ts): only a stale link of ours is replaced.
 *
 * The line's baud rate is the one the client set on the pty (its termios, which the pty
 * keeps though no bits are clocked), read with `stty` when the emulator's autobaud asks.
 */
import { readlink } from "node:fs/promises";
import { execa, type ResultPromise } from "execa";
import type { UsartLine } from "../devices/stm32/usart/bootloader.js";
import type { Clock } from "../transport/clock.js";
import { withTimeout } from "../transport/clock.js";
import { Listeners } from "../transport/rx-queue.js";
import { freePtyPath, removeOwnLink } from "./pty-link.js";

export interface PtyBridge {
  /** The symlink outside programs open. */
  readonly link: string;
  /** The pty it points to (/dev/pts/N). */
  readonly pty: string;
  /** The emulator's side of the wire. */
  readonly line: UsartLine;
  /** Resolves when socat exits (stopped or killed). */
  readonly exited: Promise<void>;
  /** Stops socat and removes the link (if it is still ours). Idempotent. */
  close(): Promise<void>;
}

/**
 * Serves a new pty linked at `link`.
 * @throws {PtyPathTakenError} when something other than a stale link of ours is at `link` (left untouched).
 */
export async function servePty(
  link: string,
  clock: Clock,
  opts: { startMs?: number } = {},
): Promise<PtyBridge> {
  await freePtyPath(link);
  const socat: ResultPromise = execa(
    "socat",
    ["-d", "-d", "-b", "4096", `PTY,raw,echo=0,link=${link}`, "STDIO"],
    {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      encoding: "buffer",
      reject: false,
      buffer: false,
    },
  );
  const exited = socat.then(() => undefined);
  let pty: string;
  try {
    // "PTY is /dev/pts/N" names the pty; "starting data transfer loop" says the link is made
    // and both ends are open: no polling for the file.
    pty = await withTimeout(
      clock,
      opts.startMs ?? 5000,
      `socat to create ${link}`,
      new Promise<string>((resolve, reject) => {
        let text = "";
        socat.stderr?.on("data", (chunk: Buffer) => {
          text += chunk.toString();
          const m = /PTY is (\S+)/.exec(text);
          if (m && /starting data transfer loop/.test(text)) resolve(m[1]!);
        });
        void socat.then((r) =>
          reject(new Error(`socat exited before creating ${link}: ${text.trim() || r.shortMessage}`)),
        );
      }),
      { setup: true },
    );
    const linked = await readlink(link).catch((e: Error) => e.message);
    if (linked !== pty) throw new Error(`socat is up, but ${link} does not point to ${pty} (${linked})`);
  } catch (e) {
    socat.kill("SIGTERM");
    await exited;
    throw e;
  }
  const data = new Listeners<Uint8Array>();
  socat.stdout?.on("data", (chunk: Buffer) => data.emit(new Uint8Array(chunk)));
  const line: UsartLine = {
    write: (bytes) =>
      new Promise<void>((resolve, reject) => {
        if (!socat.stdin || socat.stdin.destroyed) return reject(new Error(`pty ${link} is closed`));
        socat.stdin.write(bytes, (err) => (err ? reject(err) : resolve()));
      }),
    onData: (listener) => data.add(listener),
    baudRate: () => ptyBaudRate(pty),
  };
  let closing: Promise<void> | undefined;
  return {
    link,
    pty,
    line,
    exited,
    close: () => {
      closing ??= (async () => {
        socat.kill("SIGTERM");
        await exited;
        await removeOwnLink(link, pty);
      })();
      return closing;
    },
  };
}

/** How long reading a pty's termios may take before the line is taken as of unknown rate. */
const STTY_TIMEOUT_MS = 2000;

/**
 * The baud rate a client set on `pty` (`stty -F PTY speed`, which opens the pty while the
 * client holds it, so closing it hangs nothing up); undefined when it cannot be read.
 */
export async function ptyBaudRate(pty: string): Promise<number | undefined> {
  const r = await execa("stty", ["-F", pty, "speed"], { reject: false, timeout: STTY_TIMEOUT_MS });
  const baud = Number(String(r.stdout).trim());
  return r.exitCode === 0 && Number.isInteger(baud) && baud > 0 ? baud : undefined;
}
