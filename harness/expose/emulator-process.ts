/**
 * `hil emulate` as a child process, for tests and the bench: started through execa,
 * ready when it prints `ready PATH`, stopped with SIGTERM (which also saves --state).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { WallClock, withTimeout } from "../transport/clock.js";

const HIL = join(import.meta.dirname, "..", "..", "bin", "hil.js");

export interface EmulatorProcess {
  link: string;
  /** The `hil emulate` process: `kill -HUP` power-cycles the board, `-USR1` / `-USR2` switch it off / on. */
  pid: number | undefined;
  /** Device log so far (the emulator runs with --log). */
  log(): string;
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
  await withTimeout(
    new WallClock(),
    20_000,
    `hil emulate ${profile} to print "ready"`,
    new Promise<void>((resolve, reject) => {
      let out = "";
      child.stdout?.on("data", (c: Buffer) => {
        out += c.toString();
        if (out.includes(`ready ${link}\n`)) resolve();
      });
      void child.then((r) => reject(new Error(`hil emulate exited (${r.exitCode}) before ready: ${stderr}`)));
    }),
  );
  return {
    link,
    pid: child.pid,
    log: () => stderr,
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
