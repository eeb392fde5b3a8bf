/**
 * A real etcd on loopback for the lease tests: its own data directory in a temp folder, free
 * client and peer ports, stopped (and its folder removed) at the end. `etcdAvailable()` says
 * whether the binary is installed (.ci/run installs Debian's etcd-server).
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { EtcdGateway } from "../../harness/lab/etcd-gateway.js";

export function etcdAvailable(): boolean {
  try {
    execFileSync("etcd", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export const NO_ETCD = "the etcd binary is not installed (Debian package etcd-server; .ci/run installs it)";

export interface EtcdServerTls {
  /** PEM files: the CA, the server's certificate (for 127.0.0.1) and key. */
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  /** What a client presents: the CA and its own certificate and key. */
  readonly client: { ca: string; cert: string; key: string };
}

/**
 * A CA, a server certificate for 127.0.0.1 and a client certificate in `dir`, made with the
 * openssl command line (undefined when it is missing).
 */
export function makeTestPki(dir: string): EtcdServerTls | undefined {
  const f = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
  try {
    ssl(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=hil-test-ca",
      "-keyout",
      f("ca-key.pem"),
      "-out",
      f("ca.pem"),
    );
    // The server certificate also authenticates a client: etcd's gateway dials etcd itself with it.
    for (const [who, ext] of [
      ["server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth"],
      ["client", "extendedKeyUsage=clientAuth"],
    ] as const) {
      ssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        `/CN=hil-test-${who}`,
        "-keyout",
        f(`${who}-key.pem`),
        "-out",
        f(`${who}.csr`),
      );
      writeFileSync(f(`${who}.ext`), ext);
      ssl(
        "x509",
        "-req",
        "-in",
        f(`${who}.csr`),
        "-CA",
        f("ca.pem"),
        "-CAkey",
        f("ca-key.pem"),
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        f(`${who}.ext`),
        "-out",
        f(`${who}.pem`),
      );
    }
  } catch {
    return undefined;
  }
  return {
    ca: f("ca.pem"),
    cert: f("server.pem"),
    key: f("server-key.pem"),
    client: { ca: f("ca.pem"), cert: f("client.pem"), key: f("client-key.pem") },
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export class EtcdServer {
  #child: ResultPromise | undefined;
  log = "";

  private constructor(
    readonly dir: string,
    readonly clientPort: number,
    readonly peerPort: number,
    readonly tls: EtcdServerTls | undefined,
  ) {}

  get endpoint(): string {
    return `${this.tls ? "https" : "http"}://127.0.0.1:${this.clientPort}`;
  }

  /** With `tls`, clients connect over HTTPS and must present a certificate the CA signed. */
  static async start(opts: { tls?: EtcdServerTls } = {}): Promise<EtcdServer> {
    const dir = await mkdtemp(join(tmpdir(), "hil-etcd-"));
    const server = new EtcdServer(dir, await freePort(), await freePort(), opts.tls);
    await server.resume();
    return server;
  }

  /** Starts etcd (again, on the same data and ports) and waits until it answers. */
  async resume(): Promise<void> {
    const client = this.endpoint;
    const peer = `http://127.0.0.1:${this.peerPort}`;
    const child = execa(
      "etcd",
      [
        "--name",
        "hil-test",
        "--data-dir",
        join(this.dir, "data"),
        "--listen-client-urls",
        client,
        "--advertise-client-urls",
        client,
        "--listen-peer-urls",
        peer,
        "--initial-advertise-peer-urls",
        peer,
        "--initial-cluster",
        `hil-test=${peer}`,
        ...(this.tls
          ? [
              "--cert-file",
              this.tls.cert,
              "--key-file",
              this.tls.key,
              "--trusted-ca-file",
              this.tls.ca,
              "--client-cert-auth",
            ]
          : []),
      ],
      { reject: false, all: true, buffer: false, forceKillAfterDelay: 5000 },
    );
    child.all?.on("data", (b: Buffer) => {
      this.log = (this.log + b.toString()).slice(-20_000);
    });
    this.#child = child;
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`etcd exited: ${this.log.slice(-2000)}`);
      const ok = await new EtcdGateway({ endpoints: [client], timeoutMs: 1000, tls: this.tls?.client })
        .call("maintenance/status", {})
        .then(() => true)
        .catch(() => false);
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`etcd did not answer within 20 s: ${this.log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops etcd (SIGTERM, SIGKILL after 5 s), keeping its data. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    child.kill("SIGTERM");
    await child;
  }

  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * A TCP relay in front of etcd that can go silent: `blackhole()` keeps accepting and
 * swallowing bytes but forwards nothing, as a dead network path does (requests time out,
 * nothing is refused).
 */
export class SilenceableProxy {
  #silent = false;
  readonly #sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(targetPort: number): Promise<SilenceableProxy> {
    let proxy: SilenceableProxy | undefined;
    const server = createServer((socket) => {
      proxy!.#sockets.add(socket);
      socket.on("close", () => proxy!.#sockets.delete(socket));
      socket.on("error", () => undefined);
      if (proxy!.#silent) return;
      const upstream = connect(targetPort, "127.0.0.1");
      upstream.on("error", () => socket.destroy());
      socket.on("data", (b) => {
        if (!proxy!.#silent) upstream.write(b);
      });
      upstream.on("data", (b) => {
        if (!proxy!.#silent) socket.write(b);
      });
      socket.on("close", () => upstream.destroy());
      upstream.on("close", () => {
        if (!proxy!.#silent) socket.destroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    proxy = new SilenceableProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  blackhole(): void {
    this.#silent = true;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
