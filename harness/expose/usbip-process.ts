/**
 * `hil emulate <profile> --usbip HOST:PORT` as a child process (interop suite, bench, tests):
 * ready when it prints `ready usbip HOST:PORT 1-1`, stopped with SIGTERM (which also saves
 * --state). Port 0 picks a free port; the ready line names it.
 */
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { WallClock, withTimeout } from "../transport/clock.js";

const HIL = join(import.meta.dirname, "..", "..", "bin", "hil.js");

export interface UsbipEmulatorProcess {
  host: string;
  port: number;
  busid: string;
  /** The process, for power signals (SIGUSR1 off, SIGUSR2 on) and for killing it outright. */
  pid: number;
  /** stderr so far: server lines, and the device log with `--log`. */
  log(): string;
  stop(): Promise<{ exitCode: number | undefined }>;
}

export async function startUsbipEmulator(
  profile: string,
  args: string[] = [],
  opts: { listen?: string; log?: boolean; startTimeoutMs?: number } = {},
): Promise<UsbipEmulatorProcess> {
  const child: ResultPromise = execa(
    "node",
    [
      HIL,
      "emulate",
      profile,
      "--usbip",
      opts.listen ?? "127.0.0.1:0",
      ...(opts.log === false ? [] : ["--log"]),
      ...args,
    ],
    { reject: false, buffer: false, stdout: "pipe", stderr: "pipe" },
  );
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  let ready: RegExpExecArray;
  try {
    ready = await withTimeout(
      new WallClock(),
      opts.startTimeoutMs ?? 20_000,
      `hil emulate ${profile} to print "ready usbip"`,
      new Promise<RegExpExecArray>((resolve, reject) => {
        let out = "";
        child.stdout?.on("data", (c: Buffer) => {
          out += c.toString();
          const m = /^ready usbip (\S+):(\d+) (\S+)$/m.exec(out);
          if (m) resolve(m);
        });
        void child.then((r) =>
          reject(new Error(`hil emulate exited (${r.exitCode}) before ready: ${stderr}`)),
        );
      }),
      { setup: true },
    );
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
  return {
    host: ready[1]!,
    port: Number(ready[2]),
    busid: ready[3]!,
    pid: child.pid!,
    log: () => stderr,
    stop: async () => {
      child.kill("SIGTERM");
      const r = await withTimeout(new WallClock(), 10_000, "hil emulate to stop", child).catch(() => {
        child.kill("SIGKILL");
        return child;
      });
      return { exitCode: r.exitCode };
    },
  };
}
