/**
 * Twin runs on the USB/IP lab path: the lab board is `hil emulate stm32l432 --usbip` with the
 * L4 erase stall planted (`--option dfu.l4EraseStall=true`), imported by the harness as a
 * rack host's board; its twin is the in-process emulator, which lacks the stall. The finding
 * must name the GETSTATUS after the first page erase, STALL on the lab side against a status
 * reply on the twin; with no stall planted, none.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { startUsbipEmulator } from "../../harness/expose/usbip-process.js";
import type { TwinFinding } from "../../harness/mocha/twin-hooks.js";
import { runSuitesOnRig } from "./lab-suite-run.js";

/**
 * Whether the lab board stalls depends on the host polling before its erase ends: the ROM
 * asks for 8 ms and erases for 22. A loaded test machine can poll later than that, so the
 * stall tests give the lab board (and a stalling twin) a 26 ms erase: 18 ms of slack for a
 * late timer, and still at most the 3 stalled polls the client (as dfu-util) tolerates.
 */
const SLOW_ERASE = "timing.pageEraseMs=26";

/** One full update over DfuSe: its download erases each page before writing it. */
const UPDATE = "updates from a .bin file and the application runs";

async function twinRun(
  planted: string[],
  twin = "true",
): Promise<{ findings: TwinFinding[]; failures: string[]; passes: string[] }> {
  const emu = await startUsbipEmulator(
    "stm32l432",
    planted.flatMap((o) => ["--option", o]),
    { log: false },
  );
  const dir = await mkdtemp(join(tmpdir(), "hil-twin-usbip-"));
  const findingsFile = join(dir, "findings.jsonl");
  try {
    const result = await runSuitesOnRig({
      rigYaml: [
        "name: twin-usbip-lab",
        "boards:",
        "  - id: l432-usbip",
        "    family: stm32l432",
        "    capabilities: [usb-dfu]",
        `    usb: { usbip: "${emu.host}:${emu.port}", busid: "${emu.busid}" }`,
        `    power: { backend: command, cutsPower: true, off: "kill -USR1 ${emu.pid}", on: "kill -USR2 ${emu.pid}" }`,
        "    timeouts: { enumerateMs: 5000, settleMs: 20, powerOffMs: 300 }",
        `    twin: ${twin}`,
      ],
      suites: "suites/stm32-dfu/full-update.spec.ts",
      args: ["--grep", UPDATE],
      env: { HIL_TWIN_FINDINGS: findingsFile },
    });
    const text = await readFile(findingsFile, "utf8").catch(() => "");
    const findings = text
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as TwinFinding);
    return { findings, failures: result.failures, passes: result.passes };
  } finally {
    await emu.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The one finding of a run, after checking both sides passed the update itself. */
function only(run: Awaited<ReturnType<typeof twinRun>>): TwinFinding {
  expect(run.failures).to.deep.equal([]);
  expect(run.passes).to.have.length(2); // the lab board's test and its twin's
  expect(run.findings).to.have.length(1);
  return run.findings[0]!;
}

describe("twin runs on the USB/IP lab path (hil emulate stm32l432 --usbip, its emulated twin in process)", function () {
  this.timeout(240_000);

  it("the L4 erase stall on the lab board: the second GETSTATUS after the first page erase stalls there and answers on the twin", async () => {
    const f = only(await twinRun(["dfu.l4EraseStall=true", SLOW_ERASE]));
    expect(f).to.include({ lab: "l432-usbip", twin: "l432-usbip-twin", test: UPDATE, equal: false });
    const d = f.divergence!;
    expect(d.outcomeOnly).to.equal(false);
    // Alike up to the erase of the first page and its first GETSTATUS (dfuDNBUSY); the next parts.
    expect(d.index).to.equal(10);
    expect(d.lab.before.slice(-2)).to.deep.equal([
      "[8] dfu >> ctrl-out DfuSe Erase page 0x08000000: 4100000008",
      "[9] dfu << ctrl-in GETSTATUS dfuDNBUSY: 00xxxxxx0400",
    ]);
    expect(d.twin.before).to.deep.equal(d.lab.before);
    expect(d.lab.exchange).to.equal("[10] dfu << ctrl-in GETSTATUS STALL (stall)");
    expect(d.lab.hex).to.equal(undefined);
    // bStatus OK, bwPollTimeout masked, bState 5 = dfuDNLOAD-IDLE.
    expect(d.twin.exchange).to.equal("[10] dfu << ctrl-in GETSTATUS dfuDNLOAD-IDLE: 00xxxxxx0500");
    expect(d.twin.hex).to.equal("00xxxxxx0500");
    expect(d.lab.state).to.match(/last exchange: \[9\] dfu << ctrl-in GETSTATUS dfuDNBUSY: 00xxxxxx0400/);
    expect(d.clauses).to.deep.equal(f.clauses).and.include("DFU 1.1 §6 (download, manifestation)");
  });

  it("with identical personalities there is no divergence (no stall on either; the stall on both)", async () => {
    const f = only(await twinRun([]));
    expect(f).to.include({ lab: "l432-usbip", twin: "l432-usbip-twin", equal: true });
    expect(f).to.not.have.property("divergence");
    const both = only(
      await twinRun(
        ["dfu.l4EraseStall=true", SLOW_ERASE],
        "{ options: { dfu: { l4EraseStall: true }, timing: { pageEraseMs: 26 } } }",
      ),
    );
    expect(both).to.include({ equal: true }).and.not.have.property("divergence");
  });
});
