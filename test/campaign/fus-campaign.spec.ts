import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import {
  type CampaignBundle,
  replayCampaignBundle,
  writeCampaignBundle,
} from "../../harness/campaign/bundle.js";
import {
  type CampaignResult,
  defaultRigPath,
  minimize,
  prepareCampaign,
  runCampaign,
} from "../../harness/campaign/campaign.js";
import { campaignFamilies } from "../../harness/campaign/families/index.js";
import { undocumentedTransitions } from "../../harness/campaign/fus-transitions.js";
import { parsePlan } from "../../harness/campaign/plan.js";
import type { FusTraceEntry } from "../../harness/clients/fus/index.js";

const state = (t: number, s: number, error = 0): FusTraceEntry => ({ t, kind: "state", state: s, error });
const reset = (t: number): FusTraceEntry => ({ t, kind: "no-answer" });

/** What a campaign decided, without wall times. */
const verdicts = (r: CampaignResult) => ({
  plans: r.plans,
  failures: r.failures,
  faults: r.faults,
  faultsFired: r.faultsFired,
  flashOps: r.flashOps,
  deviceMs: r.deviceMs,
});

describe("campaign: FUS state transitions (AN5185 Table 10)", () => {
  it("accepts an install as FUS answers it: idle, ongoing, a reset, the stack running", () => {
    const trace = [state(0, 0x00), state(1, 0x10), state(2, 0x11), reset(3), state(4, 0x10), reset(5)];
    trace.push(state(6, 0xff, 0xfe), state(7, 0xff, 0xfe), reset(8), state(9, 0x00), state(10, 0x20));
    expect(undocumentedTransitions(trace)).to.deep.equal([]);
  });

  it("names a value Table 10 or Table 11 does not list", () => {
    expect(undocumentedTransitions([state(5, 0x05)])).to.deep.equal([
      "at 5 ms FUS answered state 0x5 is not a Table 10 value",
    ]);
    expect(undocumentedTransitions([state(6, 0xff, 0x42)])).to.deep.equal([
      "at 6 ms FUS answered error 0x42 is not a Table 11 value",
    ]);
    expect(undocumentedTransitions([state(7, 0x00, 0x01)])).to.deep.equal([
      "at 7 ms FUS answered IDLE with error 0x1",
    ]);
  });

  it("catches FUS and the stack taking over from each other, or one operation becoming another, without a reset", () => {
    expect(undocumentedTransitions([state(1, 0x10), state(2, 0xff, 0xfe)])).to.deep.equal([
      "at 2 ms FUS went from FW_UPGRD_ONGOING(0x10) to NOT_RUNNING with no reset between",
    ]);
    expect(undocumentedTransitions([state(1, 0xff, 0xfe), state(2, 0x00)])).to.have.length(1);
    expect(undocumentedTransitions([state(1, 0x10), state(2, 0x20)])).to.deep.equal([
      "at 2 ms FUS went from FW_UPGRD_ONGOING(0x10) to FUS_UPGRD_ONGOING(0x20) with no reset between",
    ]);
    // The same steps across a reset are documented (FUS resumes, or the stack starts).
    expect(undocumentedTransitions([state(1, 0x10), reset(2), state(3, 0xff, 0xfe)])).to.deep.equal([]);
  });
});

describe("campaign: stm32wb55 (FUS stack install and FUS upgrade)", () => {
  it("is a campaign family", () => {
    expect(campaignFamilies()).to.include("stm32wb55");
  });

  it("gives the same plans and verdicts for the same seed", async () => {
    const run = () => runCampaign({ family: "stm32wb55", seed: 77, runs: 6, shrink: false });
    const [a, b] = [await run(), await run()];
    expect(a.faultsFired).to.be.above(0);
    expect(verdicts(b)).to.deep.equal(verdicts(a));
  });

  describe("plans that once broke an invariant", () => {
    let bench: Awaited<ReturnType<typeof prepareCampaign>>;
    before(async () => {
      bench = await prepareCampaign("stm32wb55", defaultRigPath());
    });

    // The cut lands inside a FUS_GET_STATE the device is answering: the host must see the
    // device leave the bus, not the emulator's own power-loss error (a harness error).
    it("a power cut while FUS answers GET_STATE: recovery, then a clean update", async () => {
      for (const plan of [
        "event:fus.state.FW_UPGRD_ONGOING#3=power-cut",
        "event:fus.state.FUS_UPGRD_ONGOING#2=power-cut",
      ]) {
        const v = await bench.runner.run(parsePlan(plan));
        expect(v.fired, plan).to.have.length(1);
        expect(v.violations, plan).to.deep.equal([]);
      }
    });

    // A bit flipped in the stack as FUS installs it travels with the stack when the FUS
    // upgrade moves it lower: a fault the invariant excludes, wherever the stack went.
    it("a bit flipped during the install, the stack moved after: not a half-installed stack", async () => {
      const v = await bench.runner.run(
        parsePlan("event:fus.state.FW_UPGRD_ONGOING#10=power-cut,flash-op:16=bit-flip"),
      );
      expect(v.fired.join()).to.include("flash-op:16=bit-flip");
      expect(v.violations).to.deep.equal([]);
    });

    // FUS fails to program a page while it moves the stack: it must end its operation (and
    // recover, Table 3 "Other failures") rather than stay ongoing for ever.
    it("a page FUS fails to program: FUS recovers and settles", async () => {
      const v = await bench.runner.run(parsePlan("flash-op:50=flash-fail"));
      expect(v.fired[0]).to.match(/^flash-op:50=flash-fail \(flash op 50 \(program /);
      expect(v.violations).to.deep.equal([]);
    });
  });
});

describe("campaign: stm32wb55 planted defect (a half-installed stack starts after a cut)", () => {
  const PLAN = "event:dfu.dnload.block#30=usb-disconnect,flash-op:18=power-cut,event:fus.reset#9=power-cut";

  it("passes without the defect", async () => {
    const bench = await prepareCampaign("stm32wb55", defaultRigPath());
    expect((await bench.runner.run(parsePlan(PLAN))).violations).to.deep.equal([]);
  });

  it("is found by the image invariant and shrunk to the one cut mid-copy", async () => {
    const bench = await prepareCampaign("stm32wb55", defaultRigPath(), { fusStartHalfInstalledStack: true });
    const failing = await bench.runner.run(parsePlan(PLAN));
    const seen = failing.violations.map((v) => `${v.invariant}@${v.step}`);
    expect(seen).to.include("old-or-new@check");
    expect(failing.violations[0]!.message).to.match(
      /CPU2 runs stack 1\.0\.0 at 0x80f0000, but the flash there is not the whole image/,
    );
    const minimal = await minimize(bench.runner, bench.scenario, failing);
    // One cut before a program of the install's copy (ops 16, 18, 20: the 2nd-4th sector).
    expect(minimal.plan).to.match(/^flash-op:(16|18|20)=power-cut$/);
    expect(minimal.violations.map((v) => v.invariant)).to.include("old-or-new");
  });
});

describe("campaign: stm32wb55 repro bundle", () => {
  const PLANTED = { fusStartHalfInstalledStack: true };
  let dir: string;
  let saved: string | undefined;
  before(() => {
    saved = process.env.HIL_REPRO_DIR;
    dir = mkdtempSync(join(tmpdir(), "fus-bundle-"));
    process.env.HIL_REPRO_DIR = dir;
  });
  after(() => {
    if (saved === undefined) delete process.env.HIL_REPRO_DIR;
    else process.env.HIL_REPRO_DIR = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it("`hil replay` runs a FUS plan's bundle again with the same verdicts and transcripts", async () => {
    const rig = defaultRigPath();
    const plan = "event:fus.reset#9=power-cut,flash-op:18=power-cut";
    const bench = await prepareCampaign("stm32wb55", rig, PLANTED);
    const v = await bench.runner.run(parsePlan(plan));
    expect(v.violations).to.not.deep.equal([]);
    const failure = {
      index: 3,
      seed: 1,
      plan,
      violations: v.violations,
      fired: v.fired,
      flashOps: v.flashOps,
      deviceMs: v.deviceMs,
    };
    const id = await writeCampaignBundle(failure, {
      family: "stm32wb55",
      seed: 5,
      rig,
      emulatorOptions: PLANTED,
    });
    const read = (name: string) => JSON.parse(readFileSync(join(dir, id, name), "utf8"));
    const bundle = read("repro.json") as CampaignBundle;
    const replay = await replayCampaignBundle(bundle, async (name) => read(name));
    expect(replay.lines[0]).to.match(/^original plan .*: still breaks old-or-new/);
    expect(replay.lines.some((l) => /transcript original-.*identical \(\d+ entries/.test(l))).to.equal(true);
    expect(replay.same, replay.lines.join("\n")).to.equal(true);
  });
});
