/**
 * Board leases in a real etcd (started on loopback for these tests): put-if-absent with the
 * holder's identity, contention, a SIGKILLed holder's lease ending by its TTL, fencing when
 * keepalives go unanswered (etcd silenced, or stopped and restarted) as an infrastructure
 * failure naming the lease, and user/password authentication.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { acquireBoard, type LeaseBackendConfig, tryBoard } from "../../harness/lab/board-lease.js";
import { SkipScenario } from "../../harness/lab/errors.js";
import { EtcdCallError, EtcdGateway } from "../../harness/lab/etcd-gateway.js";
import { EtcdBoardLease, LeaseLostError, tryEtcdLease } from "../../harness/lab/etcd-lease.js";
import { categoryOf, classifyError } from "../../harness/report/categories.js";
import { leaseConfigOf } from "../../harness/rig/lease-config.js";
import { projectRoot } from "../../harness/rig/load.js";
import { EtcdServer, etcdAvailable, makeTestPki, NO_ETCD, SilenceableProxy } from "./etcd-server.js";

const FIXTURES = join(import.meta.dirname, "fixtures");

function etcdConfig(endpoint: string, ttlS = 15, prefix = "/hil-test/"): LeaseBackendConfig {
  return { backend: "etcd", endpoints: [endpoint], prefix, ttlS };
}

/** Resolves on the first stdout line matching `pattern`, or rejects after `ms`. */
function waitForLine(child: ReturnType<typeof execa>, pattern: RegExp, ms = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(
      () => reject(new Error(`no line matching ${pattern} within ${ms} ms: ${text}`)),
      ms,
    );
    child.stdout?.on("data", (b: Buffer) => {
      text += b.toString();
      const line = text.split("\n").find((l) => pattern.test(l));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve(line);
      }
    });
  });
}

describe("lab/etcd-lease (a real etcd on loopback)", function () {
  this.timeout(60_000);
  let etcd: EtcdServer;

  before(async function () {
    if (!etcdAvailable()) {
      console.warn(`    skipped: ${NO_ETCD}`);
      this.skip();
    }
    etcd = await EtcdServer.start();
  });
  after(async () => {
    await etcd?.dispose();
  });

  it("leases a board with its holder's identity as the value; a second holder gets the first named; release frees it", async () => {
    const config = etcdConfig(etcd.endpoint, 15, "/hil-a/");
    const first = await acquireBoard(config, "wb55-1");
    const raw = await new EtcdGateway({ endpoints: [etcd.endpoint] }).get("/hil-a/boards/wb55-1");
    const value = JSON.parse(raw!.value) as Record<string, unknown>;
    expect(value).to.include({ board: "wb55-1", pid: process.pid });
    expect(value).to.have.keys("board", "user", "host", "pid", "run", "since", "until");
    expect(raw!.lease).to.not.equal("0");

    const second = await tryBoard(config, "wb55-1");
    expect(second)
      .to.have.property("holder")
      .that.matches(new RegExp(`\\(pid ${process.pid}, run \\w+\\) since `));
    const waited = await acquireBoard(config, "wb55-1", {
      timeoutMs: 300,
      pollMs: 50,
      warn: () => undefined,
    }).catch((e: Error) => e);
    expect(waited).to.be.instanceOf(SkipScenario);
    expect((waited as Error).message).to.match(
      /^board wb55-1 is leased \(waited 300 ms\): wb55-1 by .* \(pid \d+/,
    );

    await first.release();
    expect(await new EtcdGateway({ endpoints: [etcd.endpoint] }).get("/hil-a/boards/wb55-1")).to.equal(
      undefined,
    );
    const again = await acquireBoard(config, "wb55-1");
    await again.release();
  });

  it("a holder killed with SIGKILL keeps the board until its TTL runs out, then it is free", async () => {
    const endpoint = etcd.endpoint;
    const holder = execa("node", ["--import", "tsx", join(FIXTURES, "etcd-holder.ts")], {
      reject: false,
      env: {
        HIL_LEASE_ETCD: endpoint,
        HIL_LEASE_ETCD_PREFIX: "/hil-kill/",
        HIL_LEASE_ETCD_TTL_S: "3",
        BOARD: "l432-k",
      },
    });
    try {
      await waitForLine(holder, /^HELD /);
      holder.kill("SIGKILL");
      await holder;
      const config = etcdConfig(endpoint, 3, "/hil-kill/");
      // Dead, but nobody guesses: its lease is still live until the TTL says otherwise.
      const right = await tryBoard(config, "l432-k");
      expect(right).to.have.property("holder").that.includes(`(pid ${holder.pid}, `);
      const next = await acquireBoard(config, "l432-k", {
        timeoutMs: 20_000,
        pollMs: 200,
        warn: () => undefined,
      });
      expect(next.describe()).to.include(`(pid ${process.pid}, `);
      await next.release();
    } finally {
      holder.kill("SIGKILL");
    }
  });

  it("keepalives unanswered: the lease is fenced (LeaseLostError, infrastructure) while etcd still has it", async () => {
    const proxy = await SilenceableProxy.start(etcd.clientPort);
    try {
      const gateway = new EtcdGateway({ endpoints: [proxy.endpoint], timeoutMs: 1000 });
      const got = await tryEtcdLease(gateway, { prefix: "/hil-fence/", ttlS: 6 }, "tkey-1");
      const lease = (got as { lease: EtcdBoardLease }).lease;
      expect(lease).to.be.instanceOf(EtcdBoardLease);
      proxy.blackhole();
      const reason = await new Promise<unknown>((resolve) =>
        lease.signal.addEventListener("abort", () => resolve(lease.signal.reason)),
      );
      // Asked straight, not through the silent path: the lease had time left when we let go.
      const direct = new EtcdGateway({ endpoints: [etcd.endpoint] });
      const left = await direct.timeToLive(lease.lease);
      expect(left, "seconds the lease still had when the holder stopped").to.be.a("number").above(0);
      expect(reason).to.be.instanceOf(LeaseLostError);
      expect((reason as Error).message).to.match(
        new RegExp(`^lost the lease of board tkey-1 \\(etcd lease ${lease.lease}\\): no keepalive answered`),
      );
      expect(classifyError(reason)).to.equal("infrastructure");
      await direct.call("lease/revoke", { ID: lease.lease });
      await lease.release();
    } finally {
      await proxy.close();
    }
  });

  /** Runs the fenced fixture suite in a child mocha; `whileReading` pulls etcd away under it. */
  async function fencedRun(endpoint: string, prefix: string, whileReading: () => Promise<void>) {
    const mocha = execa(
      join(projectRoot(), "node_modules/.bin/mocha"),
      [
        "--no-config",
        "--node-option",
        "import=tsx",
        "--timeout",
        "60000",
        "--exit",
        "--reporter",
        "json",
        join(FIXTURES, "fenced-suite.fixture.ts"),
      ],
      {
        reject: false,
        timeout: 45_000,
        env: {
          HIL_LEASE_ETCD: endpoint,
          HIL_LEASE_ETCD_PREFIX: prefix,
          HIL_LEASE_ETCD_TTL_S: "3",
          BOARD: "lab-1",
        },
      },
    );
    await waitForLine(mocha, /^READING$/);
    await whileReading();
    const r = await mocha;
    expect(r.timedOut, `the child hung: ${r.stderr}`).to.equal(false);
    const json = JSON.parse(r.stdout.slice(r.stdout.indexOf("{"))) as {
      failures: { err: { message: string; stack: string; name?: string } }[];
      passes: unknown[];
      pending: unknown[];
    };
    return { json, stderr: r.stderr, stdout: r.stdout };
  }

  it("a lease lost mid-test ends the test's read at once with the lost lease named, as infrastructure", async () => {
    const proxy = await SilenceableProxy.start(etcd.clientPort);
    try {
      const { json, stderr, stdout } = await fencedRun(proxy.endpoint, "/hil-fenced/", async () =>
        proxy.blackhole(),
      );
      expect(json.passes).to.have.length(0);
      expect(json.failures, stderr).to.have.length(1);
      const err = json.failures[0]!.err;
      // Not the read's own 50 s timeout, nor the closed port: the lease.
      expect(err.message).to.match(
        /^lost the lease of board lab-1 \(etcd lease \d+\): no keepalive answered/,
      );
      expect(err.stack).to.match(/^LeaseLostError: /);
      expect(categoryOf({ status: "broken", errorName: "LeaseLostError" })).to.equal("infrastructure");
      expect(stderr).to.match(/^hil: lost the lease of board lab-1 /m);
      // The board's later tests skip with the reason instead of driving a board that is not ours.
      expect(json.pending).to.have.length(1);
      expect(stdout).to.not.include("DROVE THE BOARD");
      expect(stderr).to.not.match(/re-check/);
    } finally {
      await proxy.close();
    }
  });

  it("etcd stopped and restarted mid-test: the test ends as infrastructure, nothing hangs, the board is free again by TTL", async () => {
    const { json, stderr } = await fencedRun(etcd.endpoint, "/hil-restart/", async () => {
      await etcd.stop();
      // Back while the child is still fenced or releasing: its release must not hang either.
      setTimeout(() => void etcd.resume(), 2500);
    });
    expect(json.failures, stderr).to.have.length(1);
    expect(json.failures[0]!.err.stack).to.match(/^LeaseLostError: lost the lease of board lab-1 /);
    await etcd.resume().catch(() => undefined); // already up, or up now
    const config = etcdConfig(etcd.endpoint, 3, "/hil-restart/");
    const next = await acquireBoard(config, "lab-1", {
      timeoutMs: 30_000,
      pollMs: 200,
      warn: () => undefined,
    });
    await next.release();
  });

  it("with a user, the password comes from the named environment variable and is never printed", async () => {
    const auth = await EtcdServer.start();
    try {
      const ctl = (...args: string[]) =>
        execa("etcdctl", [`--endpoints=${auth.endpoint}`, ...args], { env: { ETCDCTL_API: "3" } });
      await ctl("user", "add", "root:root-secret-1");
      await ctl("user", "add", "hil:hil-secret-2");
      await ctl("role", "add", "hil-boards");
      await ctl("role", "grant-permission", "hil-boards", "--prefix=true", "readwrite", "/hil-auth/");
      await ctl("user", "grant-role", "hil", "hil-boards");
      await ctl("auth", "enable");
      const config: LeaseBackendConfig = {
        ...etcdConfig(auth.endpoint, 15, "/hil-auth/"),
        auth: { user: "hil", passwordEnv: "HIL_TEST_ETCD_PASSWORD" },
      } as LeaseBackendConfig;
      const noAuth = await acquireBoard(etcdConfig(auth.endpoint, 15, "/hil-auth/"), "b-auth").catch(
        (e: Error) => e,
      );
      expect(noAuth).to.be.instanceOf(EtcdCallError);

      process.env.HIL_TEST_ETCD_PASSWORD = "wrong-secret-3";
      const wrong = await acquireBoard(config, "b-auth").catch((e: Error) => e);
      expect(wrong).to.be.instanceOf(EtcdCallError);
      expect((wrong as Error).message)
        .to.match(/authenticate/)
        .and.not.include("wrong-secret-3");

      process.env.HIL_TEST_ETCD_PASSWORD = "hil-secret-2";
      const held = await acquireBoard({ ...config } as LeaseBackendConfig, "b-auth");
      const other = await tryBoard({ ...config } as LeaseBackendConfig, "b-auth");
      expect(other).to.have.property("holder");
      expect(JSON.stringify(other)).to.not.include("hil-secret-2");
      await held.release();
    } finally {
      delete process.env.HIL_TEST_ETCD_PASSWORD;
      await auth.dispose();
    }
  });
});

describe("lab/etcd-lease over TLS with client certificates", function () {
  this.timeout(60_000);
  let pkiDir: string;
  let etcd: EtcdServer | undefined;
  let tls: ReturnType<typeof makeTestPki>;
  before(async function () {
    if (!etcdAvailable()) {
      console.warn(`    skipped: ${NO_ETCD}`);
      this.skip();
    }
    pkiDir = await mkdtemp(join(tmpdir(), "hil-etcd-pki-"));
    tls = makeTestPki(pkiDir);
    if (!tls) {
      console.warn("    skipped: the openssl command line is not installed (it makes the test certificates)");
      this.skip();
    }
    etcd = await EtcdServer.start({ tls });
  });
  after(async () => {
    await etcd?.dispose();
    if (pkiDir) await rm(pkiDir, { recursive: true, force: true });
  });

  it("leases with the client certificate; without one etcd refuses the connection, as infrastructure", async () => {
    const base = { backend: "etcd", endpoints: [etcd!.endpoint], prefix: "/hil-tls/", ttlS: 15 } as const;
    const held = await acquireBoard({ ...base, tls: tls!.client }, "tls-1");
    expect(held.describe()).to.include(`(pid ${process.pid}, `);
    await held.release();
    const refused = await acquireBoard({ ...base, tls: { ca: tls!.client.ca } }, "tls-1").catch(
      (e: Error) => e,
    );
    expect(classifyError(refused)).to.equal("infrastructure");
    expect((refused as Error).message).to.match(
      /^etcd lease\/grant: no endpoint answered \(https:\/\/127\.0\.0\.1:\d+: /,
    );
  });
});

describe("rig/lease-config", () => {
  it("HIL_LEASE_ETCD over the rig file; lock files by default; a bad endpoint names the variable", () => {
    expect(leaseConfigOf(undefined, {})).to.deep.equal({ backend: "file", dir: undefined });
    expect(leaseConfigOf(undefined, { HIL_LEASE_DIR: "/x" })).to.deep.equal({ backend: "file", dir: "/x" });
    const rig = {
      leases: { backend: "etcd" as const, endpoints: ["http://e1:2379"], prefix: "/r/", ttlS: 9 },
    };
    expect(leaseConfigOf(rig, {})).to.equal(rig.leases);
    expect(
      leaseConfigOf(rig, {
        HIL_LEASE_ETCD: "https://a:2379, https://b:2379",
        HIL_LEASE_ETCD_USER: "ci",
        HIL_LEASE_ETCD_CA: "/ca.pem",
      }),
    ).to.deep.equal({
      backend: "etcd",
      endpoints: ["https://a:2379", "https://b:2379"],
      prefix: "/update-hil/",
      ttlS: 15,
      tls: { ca: "/ca.pem" },
      auth: { user: "ci", passwordEnv: "HIL_LEASE_ETCD_PASSWORD" },
    });
    expect(() => leaseConfigOf(undefined, { HIL_LEASE_ETCD: "etcd1:2379" })).to.throw(
      /^HIL_LEASE_ETCD: endpoints\.0: expected "http:\/\/host:port"/,
    );
    // A password in the URL would be printed with every message naming the endpoint.
    expect(() => leaseConfigOf(undefined, { HIL_LEASE_ETCD: "http://hil:s3cret@etcd1:2379" })).to.throw(
      /credentials go in auth/,
    );
  });
});
