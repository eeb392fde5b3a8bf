/**
 * `hil emulate` as a child process, for tests and the bench: started through execa,
 * ready when it prints `ready PATH`, stopped with SIGTERM (which also saves --state). PATH is
 * looked at the moment the line arrives: a `ready` printed before PATH exists is an error.
 */
import { lstatSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { WallClock, withTimeout } from "../transport/clock.js";

const HIL = join(import.meta.dirname, "..", "..", "bin", "hil.js");

export interface EmulatorProcess {
  link: string;
  /** The `hil emulate` process: `kill -HUP` power-cycles the board, `-USR1` / `-USR2` switch it off / on. */
  pid: number | undefined;
  /** stderr so far: the emulator's lines, and the device log with --log. */
  log(): string;
  /** Resolves with the exit code when the process ends (stopped, or on its own). */
  exited: Promise<number | undefined>;
  stop(): Promise<{ exitCode: number | undefined }>;
}

export async function startEmulator(
  profile: string,
  link: string,
  args: string[] = [],
  opts: { log?: boolean } = {},
): Promise<EmulatorProcess> {
  const child: ResultPromise = execa(
    "node",
    [HIL, "emulate", profile, "--uart-pty", link, ...(opts.log === false ? [] : ["--log"]), ...args],
    {
      reject: false,
      buffer: false,
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const ready = withTimeout(
    new WallClock(),
    20_000,
    `hil emulate ${profile} to print "ready"`,
    new Promise<void>((resolve, reject) => {
      let out = "";
      child.stdout?.on("data", (c: Buffer) => {
        out += c.toString();
        if (!out.includes(`ready ${link}\n`)) return;
        // Acting on the line at once, as a script does: PATH must be there now.
        try {
          lstatSync(link);
          resolve();
        } catch (e) {
          reject(new Error(`hil emulate printed "ready ${link}" before it existed: ${(e as Error).message}`));
        }
      });
      void child.then((r) => reject(new Error(`hil emulate exited (${r.exitCode}) before ready: ${stderr}`)));
    }),
    { setup: true },
  );
  try {
    await ready;
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
  return {
    link,
    pid: child.pid,
    log: () => stderr,
    exited: child.then((r) => r.exitCode),
    stop: async () => {
      child.kill("SIGTERM");
      const r = await child;
      return { exitCode: r.exitCode };
    },
  };
}

export async function readState(dir: string, name = "flash.bin"): Promise<Uint8Array> {
  return new Uint8Array(await readFile(join(dir, name)));
}
