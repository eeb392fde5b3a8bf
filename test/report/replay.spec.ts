import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { compareReplay } from "../../harness/cli/replay-command.js";
import { projectRoot } from "../../harness/rig/load.js";

const run = promisify(execFile);

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
    const work = await mkdtemp(join(tmpdir(), "hil-replay-spec-"));
    const env = {
      ...process.env,
      NO_COLOR: "1",
      HIL_RESULTS_DIR: join(work, "allure-results"),
      HIL_REPRO_DIR: join(work, "repro"),
    };
    try {
      const hil = (args: string[]) =>
        run(process.execPath, ["bin/hil.js", ...args], { cwd: projectRoot(), env }).then(
          (r) => ({ code: 0, out: r.stdout }),
          (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
        );
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
});
