/** `hil run --shard i/n`: deterministic shares of the suite files, one per rack job. */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { parseShard, shardFiles } from "../../harness/cli/run-command.js";

describe("hil run --shard", () => {
  const files = [
    "tkey/full-update.spec.ts",
    "sim-nor/a.spec.ts",
    "stm32-dfu/x.spec.ts",
    "nrf52840/b.spec.ts",
    "sim-nor/b.spec.ts",
  ];

  it("every file lands in exactly one shard, whatever the listing order", () => {
    const n = 3;
    const shards = Array.from({ length: n }, (_, i) => shardFiles(files, { index: i + 1, count: n }));
    expect(shards.flat().sort()).to.deep.equal([...files].sort());
    expect(shardFiles([...files].reverse(), { index: 2, count: 3 })).to.deep.equal(shards[1]);
    expect(shardFiles(files, { index: 1, count: 1 })).to.deep.equal([...files].sort());
  });

  it("refuses malformed shards", () => {
    for (const bad of ["0/2", "3/2", "1/0", "a/b", "1-2", "1/2/3"])
      expect(() => parseShard(bad), bad).to.throw(/--shard: expected i\/n with 1 <= i <= n/);
    expect(parseShard("2/3")).to.deep.equal({ index: 2, count: 3 });
  });

  it("hil run --shard runs its share and says so; a bad value is a usage error", async function () {
    this.timeout(60_000);
    const hil = join(import.meta.dirname, "..", "..", "bin", "hil.js");
    const env = { HIL_RESULTS_DIR: join(tmpdir(), `hil-shard-${process.pid}`), HIL_RIG: "" };
    const ok = await execa("node", [hil, "run", "--shard", "1/50", "--grep", "^no test has this title$"], {
      reject: false,
      env,
    });
    expect(ok.exitCode, ok.stderr).to.equal(0);
    expect(ok.stdout).to.match(/shard 1\/50 \(1 of \d+ suite files\)/);
    const bad = await execa("node", [hil, "run", "--shard", "3/2"], { reject: false, env });
    expect(bad.exitCode).to.equal(2);
    expect(bad.stderr).to.match(/^hil: --shard: expected i\/n/);
  });
});
