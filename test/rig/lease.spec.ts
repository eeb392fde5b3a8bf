/**
 * Board leases across real processes: two contending processes never hold one board at
 * once; stale leases (dead pid, old heartbeat) are broken with a warning; a board that stays
 * leased skips with the holder named.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { SkipScenario } from "../../harness/lab/errors.js";
import {
  acquireAnyLease,
  acquireLease,
  describeHolder,
  readLease,
  tryLease,
} from "../../harness/lab/lease.js";
import { VirtualClock } from "../../harness/sim/virtual-clock.js";

const HOLDER = join(import.meta.dirname, "fixtures", "lease-holder.ts");

describe("lab/lease", function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "hil-leases-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("writes a lease file with owner, pid, host, start and heartbeat; release removes it", async () => {
    const lease = await acquireLease("wb55-nucleo", { dir, owner: "spec" });
    const record = await readLease(join(dir, "wb55-nucleo.lease"));
    expect(record).to.include({ board: "wb55-nucleo", owner: "spec", pid: process.pid, host: hostname() });
    expect(record!.heartbeat).to.be.a("number");
    const second = await tryLease("wb55-nucleo", { dir });
    expect("holder" in second && second.holder.token).to.equal(lease.record.token);
    await lease.release();
    expect(await readLease(join(dir, "wb55-nucleo.lease"))).to.equal(undefined);
    await lease.release(); // idempotent
  });

  it("the holder's heartbeat keeps the lease fresh", async () => {
    const lease = await acquireLease("b1", { dir, heartbeatMs: 50 });
    const first = (await readLease(join(dir, "b1.lease")))!.heartbeat;
    await new Promise((r) => setTimeout(r, 200));
    expect((await readLease(join(dir, "b1.lease")))!.heartbeat).to.be.above(first);
    await lease.release();
  });

  it("two real processes contending for one board never hold it at the same time", async () => {
    const log = join(dir, "holds.log");
    const run = (tag: string) =>
      execa("node", ["--import", "tsx", HOLDER], {
        reject: false,
        env: { BOARD: "l432-a", LEASE_DIR: dir, WAIT_MS: "20000", HOLD_MS: "400", LOG: log, TAG: tag },
      });
    const [a, b] = await Promise.all([run("a"), run("b")]);
    expect(a.exitCode, a.stderr).to.equal(0);
    expect(b.exitCode, b.stderr).to.equal(0);
    const events = (await readFile(log, "utf8"))
      .trim()
      .split("\n")
      .map((l) => l.split(" "));
    expect(events.map((e) => e[1])).to.deep.equal(["start", "end", "start", "end"]);
    expect(events[0]![0]).to.equal(events[1]![0]);
    expect(Number(events[2]![2])).to.be.at.least(Number(events[1]![2]));
  });

  it("a process that finds the board leased and cannot wait is skipped, naming the holder", async () => {
    const lease = await acquireLease("tkey-1", { dir, owner: "nightly run" });
    const r = await execa("node", ["--import", "tsx", HOLDER], {
      reject: false,
      env: { BOARD: "tkey-1", LEASE_DIR: dir, WAIT_MS: "300" },
    });
    expect(r.exitCode).to.equal(3);
    // Said before the wait, so a run waiting on a lease does not look hung.
    expect(r.stderr).to.match(
      /^hil: board tkey-1 is leased: tkey-1 by nightly run on .* \(pid \d+\) since \S+; waiting up to 300 ms for it$/m,
    );
    expect(r.stderr).to.match(
      /board tkey-1 is leased \(waited 300 ms\): tkey-1 by nightly run on .* \(pid \d+\) since /,
    );
    await lease.release();
  });

  it("a wait for a leased board names the holder and the wait once, then again every noticeMs", async () => {
    const held = await acquireLease("w1", { dir, owner: "nightly run" });
    const notices: string[] = [];
    const clock = new VirtualClock();
    const error = await acquireLease("w1", {
      dir,
      clock,
      timeoutMs: 180_000,
      pollMs: 1000,
      noticeMs: 60_000,
      warn: (m) => notices.push(`${clock.now()} ${m}`),
    }).catch((e: Error) => e);
    await held.release();
    expect(error).to.be.instanceOf(SkipScenario);
    const holder = `w1 by nightly run on ${hostname()} \\(pid ${process.pid}\\) since \\S+`;
    expect(notices).to.have.length(3);
    expect(notices[0]).to.match(
      new RegExp(`^0 hil: board w1 is leased: ${holder}; waiting up to 3 min for it$`),
    );
    expect(notices[1]).to.match(
      new RegExp(`^60000 hil: still waiting for board w1 \\(leased: ${holder}\\); 2 min left$`),
    );
    expect(notices[2]).to.match(
      new RegExp(`^120000 hil: still waiting for board w1 \\(leased: ${holder}\\); 60 s left$`),
    );
  });

  it("names the holder's pid once, also for a lease written with the pid in its owner", async () => {
    const lease = await acquireLease("p1", { dir });
    const text = describeHolder(lease.record);
    await lease.release();
    expect(text.match(/pid/g), text).to.have.length(1);
    expect(text).to.match(new RegExp(`^\\S+ on ${hostname()} \\(pid ${process.pid}\\) since `));
    const legacy = { ...lease.record, owner: "hil.js (pid 42)", pid: 42, host: "vm" };
    expect(describeHolder(legacy)).to.match(/^hil\.js on vm \(pid 42\) since /);
  });

  it("breaks the lease of a dead process with a warning", async () => {
    const child = execa("node", ["-e", "process.exit(0)"]);
    const deadPid = child.pid!;
    await child;
    const stale = {
      board: "b2",
      owner: "crashed run",
      token: "t",
      pid: deadPid,
      host: hostname(),
      start: Date.now(),
      heartbeat: Date.now(),
    };
    await writeFile(join(dir, "b2.lease"), JSON.stringify(stale));
    const warnings: string[] = [];
    const lease = await acquireLease("b2", { dir, warn: (m) => warnings.push(m) });
    expect(lease.record.pid).to.equal(process.pid);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(
      /broke the stale lease of board b2 held by crashed run .*: its process \d+ is gone/,
    );
    await lease.release();
  });

  it("breaks a lease from another host whose heartbeat is old; keeps a fresh one", async () => {
    const old = {
      board: "b3",
      owner: "rack-2 run",
      token: "t",
      pid: 1,
      host: "rack-2",
      start: 0,
      heartbeat: Date.now() - 120_000,
    };
    await writeFile(join(dir, "b3.lease"), JSON.stringify(old));
    const warnings: string[] = [];
    const lease = await acquireLease("b3", { dir, warn: (m) => warnings.push(m), staleMs: 60_000 });
    expect(warnings[0]).to.match(/last heartbeat is 120 s old/);
    await lease.release();
    const fresh = { ...old, heartbeat: Date.now() };
    await writeFile(join(dir, "b3.lease"), JSON.stringify(fresh));
    const error = await acquireLease("b3", { dir, timeoutMs: 100, pollMs: 20 }).catch((e: Error) => e);
    expect(error).to.be.instanceOf(SkipScenario);
  });

  it("forEachBoard's lease hooks: tests run when the board is free, skip with the holder named when it stays leased", async () => {
    const fixture = join(import.meta.dirname, "fixtures", "lease-suite.fixture.ts");
    const mocha = (env: Record<string, string>) =>
      execa("npx", ["mocha", "--no-config", "--node-option", "import=tsx", fixture], {
        reject: false,
        env: { HIL_LEASE_DIR: dir, BOARD: "lab-1", ...env },
      });
    const free = await mocha({});
    expect(free.stdout, free.stderr).to.include("TEST RAN");
    expect(free.stdout).to.match(/1 passing/);
    expect(await readLease(join(dir, "lab-1.lease")), "released after the suite").to.equal(undefined);
    const lease = await acquireLease("lab-1", { dir, owner: "the other run" });
    const busy = await mocha({ HIL_LEASE_TIMEOUT_MS: "300" });
    expect(busy.stdout, busy.stderr).not.to.include("TEST RAN");
    expect(busy.stdout).to.match(/1 pending/);
    expect(busy.stderr).to.match(
      /skipping the tests of board lab-1: board lab-1 is leased \(waited 300 ms\): lab-1 by the other run on /,
    );
    await lease.release();
  });

  it("mocha --parallel workers wanting the same lab board take turns", async () => {
    const log = join(dir, "holds.log");
    const fixtures = ["a", "b"].map((t) =>
      join(import.meta.dirname, "fixtures", `lease-parallel-${t}.fixture.ts`),
    );
    const r = await execa(
      "npx",
      ["mocha", "--parallel", "--jobs", "2", "--no-config", "--node-option", "import=tsx", ...fixtures],
      { reject: false, env: { HIL_LEASE_DIR: join(dir, "leases"), LOG: log } },
    );
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/2 passing/);
    const events = (await readFile(log, "utf8"))
      .trim()
      .split("\n")
      .map((l) => l.split(" "));
    expect(events.map((e) => e[1])).to.deep.equal(["start", "end", "start", "end"]);
    expect(events[0]![0]).to.equal(events[1]![0]);
    expect(Number(events[2]![2])).to.be.at.least(Number(events[1]![2]));
  });

  it("a process that exits without releasing leaves no lease behind", async () => {
    const r = await execa(
      "node",
      ["--import", "tsx", join(import.meta.dirname, "fixtures", "lease-exit.ts")],
      {
        reject: false,
        env: { BOARD: "b9", LEASE_DIR: dir },
      },
    );
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(await readLease(join(dir, "b9.lease"))).to.equal(undefined);
  });

  it("takes the first free board of several", async () => {
    const first = await acquireLease("wb-1", { dir });
    const second = await acquireAnyLease(["wb-1", "wb-2"], { dir });
    expect(second.record.board).to.equal("wb-2");
    const none = await acquireAnyLease(["wb-1", "wb-2"], { dir, timeoutMs: 50, pollMs: 10 }).catch(
      (e: Error) => e,
    );
    expect(none).to.be.instanceOf(SkipScenario);
    expect((none as Error).message).to.match(/^boards wb-1, wb-2 are all leased/);
    await first.release();
    await second.release();
  });
});
