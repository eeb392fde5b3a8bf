/**
 * ser2net (Debian `ser2net`, 4.x) as a child process, for tests and the bench: a rack
 * host's serial ports served over TCP, here on loopback in front of local ptys. Its own
 * YAML config in a scratch directory, free ports, foreground (-n), stopped with SIGTERM.
 * Ready once every port is listened on. Binds 127.0.0.1 only: these sockets carry no
 * authentication.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { WallClock } from "../transport/clock.js";

/** Where Debian puts it (not on a normal user's PATH); HIL_SER2NET overrides. */
export function ser2netCommand(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.HIL_SER2NET) return env.HIL_SER2NET;
  for (const dir of ["/usr/sbin", "/usr/local/sbin", ...(env.PATH ?? "").split(":")])
    if (dir && existsSync(join(dir, "ser2net"))) return join(dir, "ser2net");
  return undefined;
}

export interface Ser2netPort {
  /** The serial device ser2net opens (a pty link here). */
  device: string;
  /** "rfc2217" (telnet with COM-PORT-OPTION) or "raw" (bytes as they are). */
  kind: "rfc2217" | "raw";
  /** Line settings ser2net starts the port with. Default 115200n81. */
  settings?: string;
}

export interface Ser2netProcess {
  /** "127.0.0.1:PORT" of each served port, in the order given. */
  readonly addresses: string[];
  readonly pid: number | undefined;
  /** stderr so far. */
  log(): string;
  /** SIGTERM, then wait for it; removes the scratch directory. */
  stop(): Promise<void>;
  /** SIGKILL (a rack host dying), then wait. */
  kill(): Promise<void>;
}

/** A TCP port free on loopback now (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** ser2net 4.x YAML serving `ports` on 127.0.0.1 at the given TCP port numbers. */
export function ser2netConfig(ports: readonly Ser2netPort[], numbers: readonly number[]): string {
  return ports
    .map((p, i) =>
      [
        `connection: &port${i}`,
        // nodelay: without it ser2net's Nagle holds a reply's data behind its ACK byte until
        // the client's delayed ACK (16 ms a read turn measured, against 0.24 ms with it).
        `  accepter: ${p.kind === "rfc2217" ? "telnet(rfc2217)," : ""}tcp(nodelay),127.0.0.1,${numbers[i]}`,
        `  connector: serialdev,${p.device},${p.settings ?? "115200n81"},local`,
        "  options:",
        // A new client takes the port from an old one that did not let go (a killed run).
        "    kickolduser: true",
        // Otherwise ser2net holds serial input back up to 20 ms to gather it (about 11 ms
        // per reply measured at 115200): a request-reply bootloader crawls.
        "    chardelay: false",
      ].join("\n"),
    )
    .join("\n");
}

export async function startSer2net(
  ports: readonly Ser2netPort[],
  opts: { readyMs?: number } = {},
): Promise<Ser2netProcess> {
  const command = ser2netCommand();
  if (!command) throw new Error("ser2net not found (apt-get install ser2net; or set HIL_SER2NET)");
  const dir = await mkdtemp(join(tmpdir(), "hil-ser2net-"));
  const numbers: number[] = [];
  for (const _ of ports) numbers.push(await freePort());
  const config = ser2netConfig(ports, numbers);
  const file = join(dir, "ser2net.yaml");
  await writeFile(file, `${config}\n`);
  const child: ResultPromise = execa(command, ["-n", "-c", file, "-P", join(dir, "ser2net.pid")], {
    reject: false,
    buffer: false,
    stdout: "ignore",
    stderr: "pipe",
  });
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  let exited = false;
  const done = child.then(() => {
    exited = true;
  });
  const addresses = numbers.map((n) => `127.0.0.1:${n}`);
  const end = async (signal: NodeJS.Signals) => {
    if (!exited) child.kill(signal);
    await done;
    await rm(dir, { recursive: true, force: true });
  };
  const clock = new WallClock();
  const deadline = clock.now() + (opts.readyMs ?? 10_000);
  try {
    for (const n of numbers) {
      while (!(await accepts(n))) {
        if (exited) throw new Error(`ser2net exited before serving port ${n}: ${stderr}`);
        if (clock.now() > deadline)
          throw new Error(`ser2net did not serve port ${n} within ${opts.readyMs ?? 10_000} ms: ${stderr}`);
        await clock.sleep(20);
      }
    }
  } catch (error) {
    await end("SIGKILL");
    throw error;
  }
  return {
    addresses,
    pid: child.pid,
    log: () => stderr,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
  };
}

/**
 * Whether something listens on 127.0.0.1:`port`, found by failing to bind it: a probe
 * connection would make ser2net open the device, and it lets go of it only later.
 */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(true));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(false)));
  });
}
