import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { compareReplay } from "../../harness/cli/replay-command.js";
import { firstDifference } from "../../harness/report/transcript-compare.js";
import { projectRoot } from "../../harness/rig/load.js";
import type { TranscriptJson } from "../../harness/transport/transcript.js";

const run = promisify(execFile);

/** A scratch results and repro directory, and `hil` run in the project with them: exit code and stdout. */
async function workspace() {
  const work = await mkdtemp(join(tmpdir(), "hil-replay-spec-"));
  const env = {
    ...process.env,
    NO_COLOR: "1",
    HIL_RESULTS_DIR: join(work, "allure-results"),
    HIL_REPRO_DIR: join(work, "repro"),
  };
  const hil = (args: string[]) =>
    run(process.execPath, ["bin/hil.js", ...args], { cwd: projectRoot(), env }).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
  return { work, hil };
}

describe("hil replay", function () {
  this.timeout(120_000);

  it("compares the replayed result with the bundle's failure", () => {
    const bundle = { error: { message: "expected 'a' to equal 'b'\n+ expected - actual" } };
    expect(compareReplay(bundle, { status: "failed", message: "expected 'a' to equal 'b'" })).to.equal(
      "same",
    );
    expect(compareReplay(bundle, { status: "failed", message: "expected 'a' to equal 'c'" })).to.equal(
      "different",
    );
    expect(compareReplay(bundle, { status: "passed", message: "" })).to.equal("passed");
    expect(compareReplay(bundle, undefined)).to.equal("not run");
  });

  it("reruns a scenario broken by an injected fault from its bundle: the same failure again", async () => {
    const { work, hil } = await workspace();
    try {
      const first = await hil([
        "run",
        "--grep",
        "sim-nor.*a clean install boots the new image",
        "--fault",
        "flash-op:5=flash-fail",
      ]);
      expect(first.code, first.out).to.equal(1);
      const [id, ...others] = await readdir(join(work, "repro"));
      expect(others).to.deep.equal([]);
      expect(id).to.match(/^sim-nor-0-a-clean-install-boots-the-new-image-[0-9a-f]{8}$/);
      const replay = await hil(["replay", id as string]);
      expect(replay.out).to.include("hil replay: still fails the same way (firmware-device)");
      expect(replay.code).to.equal(0);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it("a DFU failure replays with the same transcript, times included; a bundle whose transcript was altered does not", async () => {
    const { work, hil } = await workspace();
    try {
      const first = await hil([
        "run",
        "--grep",
        "stm32-dfu: full update l432-0 \\(stm32l432\\) updates from a .bin file",
        "--fault",
        "event:dfu.dnload.block#3=dfu-status-errPROG",
      ]);
      expect(first.code, first.out).to.equal(1);
      const [id] = await readdir(join(work, "repro"));
      const transcriptFile = join(work, "repro", id as string, "dfu.transcript.json");
      const recorded = JSON.parse(await readFile(transcriptFile, "utf8")) as TranscriptJson;

      const same = await hil(["replay", id as string]);
      expect(same.out).to.include("hil replay: still fails the same way (firmware-device)");
      expect(same.out).to.include(
        `hil replay: transcript dfu: identical (${recorded.entries.length} entries, times included)`,
      );
      expect(same.code).to.equal(0);

      // One byte of the 5th entry with bytes changed, as if the first run had sent another block.
      const k = recorded.entries.map((e, i) => (e.hex ? i : -1)).filter((i) => i >= 0)[4]!;
      const altered = structuredClone(recorded);
      const hex = altered.entries[k]!.hex!;
      altered.entries[k]!.hex = `${hex.slice(0, -2)}${hex.endsWith("00") ? "01" : "00"}`;
      await writeFile(transcriptFile, JSON.stringify(altered));
      const other = await hil(["replay", id as string]);
      expect(other.out).to.include(
        `hil replay: transcript dfu: differs at entry ${k + 1} of ${recorded.entries.length}`,
      );
      expect(other.out).to.include("the scenario did not replay exactly");
      expect(other.code).to.equal(1);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});

describe("report/transcript-compare: firstDifference", () => {
  const doc = (...entries: TranscriptJson["entries"]): TranscriptJson => ({
    format: "update-hil/transcript@1",
    entries,
  });
  const a = doc(
    { t: 0, dir: "tx", hex: "7f" },
    { t: 1.5, dir: "rx", hex: "79" },
    { t: 2, dir: "event", note: "synced" },
  );

  it("finds nothing between equal recordings, whatever the order of fields", () => {
    const reordered = doc(
      { hex: "7f", dir: "tx", t: 0 },
      { dir: "rx", hex: "79", t: 1.5 },
      { note: "synced", dir: "event", t: 2 },
    );
    expect(firstDifference(a, reordered, { times: true })).to.equal(undefined);
  });

  it("names the first entry that differs in bytes, with both sides", () => {
    const b = doc(
      { t: 0, dir: "tx", hex: "7f" },
      { t: 1.5, dir: "rx", hex: "1f" },
      { t: 2, dir: "event", note: "x" },
    );
    const d = firstDifference(a, b, { times: false });
    expect(d?.index).to.equal(1);
    expect(d?.was).to.match(/1\.500 ms .* rx 1 byte: 79$/);
    expect(d?.now).to.match(/rx 1 byte: 1f$/);
  });

  it("compares times only when asked (emulated boards), and a shorter recording ends where the other goes on", () => {
    const later = doc(
      { t: 0, dir: "tx", hex: "7f" },
      { t: 1.75, dir: "rx", hex: "79" },
      { t: 2, dir: "event", note: "synced" },
    );
    expect(firstDifference(a, later, { times: false })).to.equal(undefined);
    expect(firstDifference(a, later, { times: true })?.index).to.equal(1);
    const cut = doc({ t: 0, dir: "tx", hex: "7f" });
    expect(firstDifference(a, cut, { times: true })).to.deep.include({ index: 1, now: "(end, 1 entries)" });
  });
});
