/**
 * A lab board failing for the lab mid-run is checked again: quarantined for the rest of the
 * run when the check fails (its later tests, in this suite and others, skip with the finding),
 * carrying on when it passes; a failure on the device's answer is never re-checked. Runs the
 * fixture suite in a child mocha with the spec reporter, the board's port a by-id link.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { projectRoot } from "../../harness/rig/load.js";

const FIXTURE = "test/rig/fixtures/recheck-suite.fixture.ts";
const PORT = "usb-Tillitis_MTA1-USB-V1_68de5d27-if00";

describe("mocha/recheck-hooks: a lab board that fails for the lab mid-run", function () {
  this.timeout(60_000);
  let tmp: string;

  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), "hil-recheck-"));
    await mkdir(join(tmp, "by-id"));
    await symlink("/dev/null", join(tmp, "by-id", PORT));
    await writeFile(
      join(tmp, "rig.yaml"),
      [
        "name: recheck-bench",
        "boards:",
        "  - id: tkey-lab",
        "    family: tkey",
        "    capabilities: []",
        `    serial: { byId: /dev/serial/by-id/${PORT} }`,
        '    power: { backend: command, on: "true", off: "true" }',
        "    timeouts: { enumerateMs: 200, settleMs: 10 }",
        "",
      ].join("\n"),
    );
  });
  afterEach(() => rm(tmp, { recursive: true, force: true }));

  async function run(mode: string) {
    const r = await execa(
      join(projectRoot(), "node_modules/.bin/mocha"),
      ["--no-config", "--node-option", "import=tsx", "--exit", FIXTURE],
      {
        cwd: projectRoot(),
        reject: false,
        timeout: 50_000,
        env: {
          MODE: mode,
          HIL_RIG: join(tmp, "rig.yaml"),
          HIL_SERIAL_BY_ID_DIR: join(tmp, "by-id"),
          HIL_LEASE_DIR: join(tmp, "leases"),
          NO_COLOR: "1",
          FORCE_COLOR: "0",
        },
      },
    );
    return { ...r, ran: r.stdout.match(/TEST \d RAN/g) ?? [] };
  }

  it("whose port is gone for good: the re-check fails, the rest of its tests skip with the finding", async () => {
    const r = await run("hub-dies");
    expect(r.ran, r.stdout + r.stderr).to.deep.equal(["TEST 1 RAN"]);
    expect(r.stdout).to.match(/1 failing/);
    expect(r.stdout).to.match(/2 pending/);
    expect(r.stdout).to.match(
      /InfrastructureError: board tkey-lab: \/dev\/serial\/by-id\/\S+ did not appear within 200 ms/,
    );
    expect(r.stderr).to.include("hil: board tkey-lab quarantined for the rest of the run:");
    expect(r.stderr).to.match(/FAIL serial: board tkey-lab: .* did not appear within 200 ms/);
    // The next suite on the board is skipped at its start, with the same finding.
    expect(r.stderr).to.match(
      /hil: skipping the tests of board tkey-lab: board tkey-lab is quarantined for this run: its re-check after 'first test' failed \(serial: board tkey-lab: .* did not appear within 200 ms/,
    );
  });

  it("whose port comes back: the re-check passes and its tests go on", async () => {
    const r = await run("transient");
    expect(r.ran, r.stdout + r.stderr).to.deep.equal(["TEST 1 RAN", "TEST 2 RAN", "TEST 3 RAN"]);
    expect(r.stdout).to.match(/1 failing/);
    expect(r.stderr).to.include(
      "hil: board tkey-lab failed for the lab in 'first test'; its re-check passes",
    );
    expect(r.stderr).not.to.include("quarantined");
  });

  it("that fails on the device's answer: no re-check, no quarantine", async () => {
    const r = await run("device");
    expect(r.ran, r.stdout + r.stderr).to.deep.equal(["TEST 1 RAN", "TEST 2 RAN", "TEST 3 RAN"]);
    expect(r.stdout).to.match(/1 failing/);
    expect(r.stdout).to.include("the device's status byte");
    expect(r.stderr).not.to.include("re-check");
    expect(r.stderr).not.to.include("quarantined");
  });

  it("through hil run: a lab TKey whose port is gone fails its first test for the lab, sits out the rest, and the summary names it", async () => {
    // Gone before the run: the link dangles (the start-of-run check is skipped to get that far).
    await rm(join(tmp, "by-id", PORT));
    await symlink(join(tmp, "no-such-tty"), join(tmp, "by-id", PORT));
    const r = await execa(
      process.execPath,
      ["bin/hil.js", "run", "--rig", join(tmp, "rig.yaml"), "--skip-check", "--grep", "^tkey: full app load"],
      {
        cwd: projectRoot(),
        reject: false,
        timeout: 50_000,
        env: {
          HIL_SERIAL_BY_ID_DIR: join(tmp, "by-id"),
          HIL_LEASE_DIR: join(tmp, "leases"),
          HIL_RESULTS_DIR: join(tmp, "allure-results"),
          HIL_REPRO_DIR: join(tmp, "repro"),
          NO_COLOR: "1",
        },
      },
    );
    expect(r.exitCode, r.stdout + r.stderr).to.equal(1);
    expect(r.stdout).to.match(/^0 passed, 1 failed, [1-9]\d* skipped$/m);
    expect(r.stdout).to.match(
      /^hil run: board tkey-lab was quarantined during the run \(infrastructure\): its re-check after '.+' failed \(serial: board tkey-lab: \S+ is a dangling link to \S+no-such-tty, which does not exist \(waited 200 ms\)/m,
    );
  });
});
