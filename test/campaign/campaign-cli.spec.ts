import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { type CampaignResult, runCampaign } from "../../harness/campaign/campaign.js";
import { runCampaignInWorkers } from "../../harness/campaign/workers.js";
import { parseBudget } from "../../harness/cli/campaign-command.js";
import { main } from "../../harness/cli/main.js";

async function hil(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const code = await main(args);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

const decided = (r: CampaignResult) => ({ plans: r.plans, failures: r.failures.map((f) => f.minimal?.plan) });

describe("hil campaign", function () {
  this.timeout(120_000);
  let dir: string;
  const saved = process.env.HIL_REPRO_DIR;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "campaign-"));
    process.env.HIL_REPRO_DIR = dir;
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env.HIL_REPRO_DIR;
    else process.env.HIL_REPRO_DIR = saved;
    await rm(dir, { recursive: true, force: true });
  });

  it("spread over two worker threads decides as one thread does", async () => {
    const opts = {
      family: "stm32l432" as const,
      seed: 9,
      runs: 6,
      emulatorOptions: { dfu: { skipEraseAfterPowerLoss: true } },
    };
    const one = await runCampaign(opts);
    expect(one.failures.length).to.be.above(0);
    expect(decided(await runCampaignInWorkers(opts, 2))).to.deep.equal(decided(one));
  });

  it("finds a planted defect, writes its bundle, and hil replay runs both plans again", async () => {
    const r = await hil([
      "campaign",
      "--runs",
      "3",
      "--seed",
      "1",
      "--plant",
      "dfu-skip-erase",
      "--workers",
      "1",
    ]);
    expect(r.code).to.equal(1);
    expect(r.out).to.match(/stm32l432 \(l432-0\): 3 plans, \d+ faults \(\d+ fired\), \d+ flash operations/);
    expect(r.out).to.include("plan 1 (seed ");
    expect(r.out).to.include("minimal plan");
    expect(r.out).to.include("hil replay campaign-stm32l432-s1-p1");
    const bundle = JSON.parse(await readFile(join(dir, "campaign-stm32l432-s1-p1", "repro.json"), "utf8"));
    expect(bundle.original.plan).to.equal("flash-op:10=power-cut-torn");
    expect(bundle.minimal.plan).to.equal("flash-op:1=power-cut");
    expect(bundle.emulatorOptions).to.deep.equal({ dfu: { skipEraseAfterPowerLoss: true } });
    const files = await readdir(join(dir, "campaign-stm32l432-s1-p1"));
    expect(files).to.include.members([
      "minimal-update-dfu.transcript.json",
      "original-recovery-dfu.transcript.json",
    ]);
    const replay = await hil(["replay", "campaign-stm32l432-s1-p1"]);
    expect(replay.out).to.include("minimal plan flash-op:1=power-cut: still breaks never-bricked");
    expect(replay.out).to.include("same verdicts and transcripts");
    expect(replay.code).to.equal(0);
  });

  it("its workers start from a working directory outside the project (a team's own)", async () => {
    const opts = { family: "sim-nor" as const, seed: 3, runs: 4 };
    const one = await runCampaign(opts);
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(decided(await runCampaignInWorkers(opts, 2))).to.deep.equal(decided(one));
    } finally {
      process.chdir(cwd);
    }
  });

  it("a campaign that finds nothing says what it covered, exit 0", async () => {
    const r = await hil(["campaign", "--runs", "4", "--seed", "2", "--workers", "1", "--what", "power-cut"]);
    expect(r.code).to.equal(0);
    expect(r.out).to.match(/4 plans, \d+ faults \(\d+ fired\), [1-9]\d* flash operations; .*; 0 failing/);
  });

  it("refuses bad options naming them (exit 2)", async () => {
    for (const [args, msg] of [
      [["--family", "vax"], /--family: no campaign for 'vax'/],
      [["--what", "brown-out"], /unknown fault kind 'brown-out'/],
      [["--runs", "0"], /--runs: expected a whole number >= 1/],
      [["--runs", "3", "--budget", "1m"], /give one/],
      [["--shard", "3/2"], /--shard/],
      [["--plant", "nope"], /unknown defect 'nope'/],
    ] as const) {
      const r = await hil(["campaign", ...args]);
      expect(r.code, args.join(" ")).to.equal(2);
      expect(r.err).to.match(msg);
    }
    expect(parseBudget("10m")).to.equal(600_000);
    expect(parseBudget("90s")).to.equal(90_000);
  });
});
