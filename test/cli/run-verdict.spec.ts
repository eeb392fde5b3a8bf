/**
 * How `hil run` ends when boards could not be tested: every one named with why, and an exit
 * code of its own (4) unless a test failed (1). A run that tested nothing must not exit 0.
 */
import { expect } from "chai";
import { main } from "../../harness/cli/main.js";
import { EXIT_UNTESTED, runVerdict } from "../../harness/cli/run-verdict.js";
import { QUARANTINE_ENV } from "../../harness/rig/health.js";
import { untestedBoards } from "../../harness/rig/untested.js";

describe("cli/run-verdict: the close of hil run", () => {
  it("nothing untested: exit 0 with no failure, 1 with one; no lines", () => {
    expect(runVerdict(0, [])).to.deep.equal({ lines: [], exitCode: 0 });
    expect(runVerdict(2, [])).to.deep.equal({ lines: [], exitCode: 1 });
  });

  it("names every board that could not be tested, with why; exit 4, or 1 when a test failed too", () => {
    const untested = [
      { board: "l432-a", why: "start", detail: "serial: board l432-a: gone" },
      { board: "wb55-b", why: "during", detail: "its re-check after 't' failed (usb: gone)" },
      { board: "tkey-c", why: "leased", detail: "board tkey-c is leased (waited 300 ms): ..." },
    ] as const;
    const verdict = runVerdict(0, untested);
    expect(EXIT_UNTESTED).to.equal(4);
    expect(verdict.exitCode).to.equal(4);
    expect(verdict.lines).to.deep.equal([
      "hil run: board l432-a was quarantined at the start of the run (infrastructure): its health check failed (serial: board l432-a: gone)",
      "hil run: board wb55-b was quarantined during the run (infrastructure): its re-check after 't' failed (usb: gone)",
      "hil run: board tkey-c was not tested (infrastructure): board tkey-c is leased (waited 300 ms): ...",
      "hil run: 3 boards could not be tested (infrastructure): exit code 4",
    ]);
    const failed = runVerdict(1, untested.slice(0, 1));
    expect(failed.exitCode).to.equal(1);
    expect(failed.lines.at(-1)).to.equal("hil run: 1 board could not be tested (infrastructure)");
  });

  it("reads the start-of-run quarantine the run hands its suites (HIL_QUARANTINE)", () => {
    const env = { [QUARANTINE_ENV]: JSON.stringify({ "l432-a": "serial: gone", "wb55-b": "power: dead" }) };
    expect(untestedBoards(env)).to.deep.equal([
      { board: "l432-a", why: "start", detail: "serial: gone" },
      { board: "wb55-b", why: "start", detail: "power: dead" },
    ]);
    expect(untestedBoards({})).to.deep.equal([]);
  });

  it("hil run --help says what exit code 4 means", async () => {
    const printed: string[] = [];
    const log = console.log;
    console.log = (text: string) => printed.push(text);
    try {
      expect(await main(["run", "--help"])).to.equal(0);
    } finally {
      console.log = log;
    }
    expect(printed.join("\n").replace(/\s+/g, " ")).to.include(
      `Exit code 1 when a test failed, else ${EXIT_UNTESTED} when a lab board could not be tested (quarantined at the start or during the run, or leased by another run past HIL_LEASE_TIMEOUT_MS; the close names each with why)`,
    );
  });
});
