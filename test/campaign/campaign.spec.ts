import { expect } from "chai";
import fc from "fast-check";
import {
  type CampaignResult,
  defaultRigPath,
  mergeResults,
  planSeed,
  prepareCampaign,
  runCampaign,
  shardIndices,
} from "../../harness/campaign/campaign.js";
import { campaignFamilies } from "../../harness/campaign/families/index.js";
import { appAreaCheck } from "../../harness/campaign/families/stm32-dfu.js";
import { clauseOf, INVARIANT_IDS } from "../../harness/campaign/invariants.js";
import {
  armPlan,
  drawPlan,
  type FaultMenu,
  formatPlan,
  parsePlan,
  parseWhats,
} from "../../harness/campaign/plan.js";
import type { PlanVerdict } from "../../harness/campaign/run-plan.js";
import { RunContext } from "../../harness/campaign/scenario.js";
import { shrinkPlan } from "../../harness/campaign/shrink.js";
import { catalogueSync } from "../../harness/report/catalogue.js";
import type { Board } from "../../harness/rig/board.js";
import type { Fault } from "../../harness/sim/faults.js";
import { Flash } from "../../harness/sim/flash.js";
import { VirtualClock } from "../../harness/sim/virtual-clock.js";

const MENU: FaultMenu = {
  flash: ["power-cut", "power-cut-torn", "bit-flip"],
  events: { "dfu.dnload.block": ["power-cut", "usb-disconnect"] },
  time: [],
};
const SPACE = { flashOps: 30, events: { "dfu.dnload.block": 16 }, durationMs: 4000 };
const PLANTED = { dfu: { skipEraseAfterPowerLoss: true } };

/** What a campaign decided, without wall times: equal across runs and machines. */
const verdicts = (r: CampaignResult) => ({
  plans: r.plans,
  failures: r.failures.map((f) => ({ ...f, minimal: f.minimal && { ...f.minimal, wallMs: 0 } })),
  faults: r.faults,
  faultsFired: r.faultsFired,
  flashOps: r.flashOps,
  deviceMs: r.deviceMs,
});

describe("campaign: plans", () => {
  it("draws 1..K faults inside the measured space, the same plan for the same seed", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 1, max: 5 }), (seed, k) => {
        const plan = drawPlan(seed, MENU, SPACE, k);
        expect(plan.length).to.be.within(1, k);
        for (const f of plan) {
          const w = f.where;
          if (w.at === "flash-op") expect(w.op).to.be.within(1, SPACE.flashOps);
          else if (w.at === "event") expect(w.occurrence).to.be.within(1, 16);
          else expect.fail(`no time faults in this menu: ${formatPlan(plan)}`);
        }
        expect(formatPlan(drawPlan(seed, MENU, SPACE, k))).to.equal(formatPlan(plan));
        // The text form reads back to the same plan (a repro bundle keeps plans as text).
        expect(parsePlan(formatPlan(plan))).to.deep.equal(plan);
      }),
    );
  });

  it("draws only the kinds asked for, and refuses a kind it does not know", () => {
    for (let seed = 0; seed < 50; seed++)
      for (const f of drawPlan(seed, MENU, SPACE, 4, ["usb-disconnect"]))
        expect(formatPlan([f])).to.match(/^event:dfu\.dnload\.block#\d+=usb-disconnect$/);
    expect(() => parseWhats("power-cut,brown-out")).to.throw(/unknown fault kind 'brown-out'/);
    expect(() => drawPlan(1, MENU, SPACE, 2, ["serial-drop"])).to.throw(/no fault of serial-drop applies/);
  });

  it("arms a plan in the board's numbering: flash ops after the origin, times after now", () => {
    const plan = parsePlan(
      "flash-op:3=power-cut,flash-op:erase#2=bit-flip,event:x#4=usb-stall,time:10=power-cut",
    );
    const armed = armPlan(plan, { ops: 100, erases: 7, programs: 93, nowMs: 5000 });
    expect(formatPlan(armed)).to.equal(
      "flash-op:103=power-cut,flash-op:erase#9=bit-flip,event:x#4=usb-stall,time:5010=power-cut",
    );
  });

  it("gives plan i a seed of its own, and shards that cover every index once", () => {
    expect(planSeed(7, "stm32l432", 3)).to.equal(planSeed(7, "stm32l432", 3));
    expect(planSeed(7, "stm32l432", 3)).to.not.equal(planSeed(7, "stm32l432", 4));
    expect(planSeed(7, "stm32l432", 3)).to.not.equal(planSeed(7, "nrf52840", 3));
    const all = [0, 1, 2].flatMap((i) => [...shardIndices(10, { index: i, count: 3 })]).sort((a, b) => a - b);
    expect(all).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(() => [...shardIndices(10, { index: 3, count: 3 })]).to.throw(/shard 4\/3/);
  });

  it("names every invariant by a clause of the catalogue", () => {
    const known = new Set(catalogueSync().documents.flatMap((d) => d.clauses));
    for (const family of campaignFamilies())
      for (const id of INVARIANT_IDS)
        expect(known.has(clauseOf(id, family)), clauseOf(id, family)).to.equal(true);
  });
});

describe("campaign: shrinking", () => {
  /** A failure that needs a torn-or-plain cut at flash op 5 or later and an event fault. */
  const verdictOf = (plan: readonly Fault[]): PlanVerdict => {
    const cut = plan.some((f) => f.where.at === "flash-op" && f.where.op >= 5 && f.what.do === "power-cut");
    const ev = plan.some((f) => f.where.at === "event");
    const violations =
      cut && ev ? [{ invariant: "never-bricked" as const, clause: "c", step: "s", message: "m" }] : [];
    return { plan, violations, fired: [], flashOps: 0, events: {}, deviceMs: 0 };
  };

  it("drops faults, picks simpler kinds and earlier positions, deterministically", async () => {
    const failing = parsePlan(
      "flash-op:9=bit-flip,flash-op:27=power-cut-torn,event:dfu.dnload.block#12=usb-disconnect,flash-op:3=power-cut",
    );
    const run = async (p: readonly Fault[]) => verdictOf(p);
    const a = await shrinkPlan(verdictOf(failing), MENU, run);
    expect(formatPlan(a.plan)).to.equal("flash-op:5=power-cut,event:dfu.dnload.block#1=power-cut");
    const b = await shrinkPlan(verdictOf(failing), MENU, run);
    expect(b).to.deep.equal(a);
  });

  it("refuses a plan that did not fail", async () => {
    const p = parsePlan("flash-op:1=power-cut");
    let err: unknown;
    await shrinkPlan(verdictOf(p), MENU, async (q) => verdictOf(q)).catch((e: unknown) => {
      err = e;
    });
    expect(String(err)).to.match(/did not fail/);
  });
});

describe("campaign: run context", () => {
  const board = (clock: VirtualClock) => ({ clock }) as unknown as Board;

  it("calls an operation that outlives its bound on the virtual clock a hang", async () => {
    const ctx = new RunContext(board(new VirtualClock()), "stm32l432");
    ctx.step = "update";
    const err = await ctx.op("download", 1000, () => new Promise<never>(() => {})).catch((e: unknown) => e);
    expect(String(err)).to.match(/no end within 1000 ms/);
    expect(ctx.violations.map((v) => [v.invariant, v.step, v.message])).to.deep.equal([
      ["no-hang", "update", "download did not end within 1000 ms"],
    ]);
  });

  it("passes an operation that ends in time, leaving no timer behind", async () => {
    const clock = new VirtualClock();
    const ctx = new RunContext(board(clock), "stm32l432");
    const status = async () => {
      await clock.sleep(999);
      return 42;
    };
    expect(await ctx.op("status", 1000, status)).to.equal(42);
    expect(ctx.violations).to.deep.equal([]);
    expect(clock.pending).to.equal(0);
  });

  it("files a TypeError as the harness's, a device timeout as not", () => {
    const ctx = new RunContext(board(new VirtualClock()), "nrf52840");
    ctx.ended(new TypeError("x is undefined"));
    ctx.ended(Object.assign(new Error("t"), { name: "TimeoutError" }));
    expect(ctx.violations.map((v) => v.invariant)).to.deep.equal(["error-category"]);
    expect(ctx.violations[0]!.clause).to.equal(clauseOf("error-category", "nrf52840"));
  });
});

describe("campaign: DFU full update and leave (stm32l432)", function () {
  this.timeout(120_000);

  it("keeps every invariant on the emulator as it is, and says what it covered", async () => {
    const r = await runCampaign({ family: "stm32l432", seed: 11, runs: 12 });
    expect(r.failures).to.deep.equal([]);
    expect(r.plans.map((p) => p.index)).to.deep.equal([...Array(12).keys()]);
    expect(r.faults).to.be.within(12, 36);
    expect(r.faultsFired).to.be.above(0);
    // Each plan runs the update: at least one 16 KB download's flash operations.
    expect(r.flashOps).to.be.at.least(12 * 8);
  });

  it("gives the same plans and verdicts twice, and sharded as unsharded", async () => {
    const opts = { family: "stm32l432" as const, seed: 5, runs: 9, emulatorOptions: PLANTED };
    const whole = await runCampaign(opts);
    expect(whole.failures.length, "the planted defect makes some plans fail").to.be.above(0);
    expect(verdicts(await runCampaign(opts))).to.deep.equal(verdicts(whole));
    const shards = await Promise.all(
      [0, 1, 2].map((index) => runCampaign({ ...opts, shard: { index, count: 3 } })),
    );
    expect(verdicts(mergeResults(shards))).to.deep.equal(verdicts(whole));
  });

  it("finds the planted skipped erase and shrinks it to one power cut at the first operation", async () => {
    const r = await runCampaign({ family: "stm32l432", seed: 1, runs: 4, emulatorOptions: PLANTED });
    const f = r.failures.find((x) => x.index === 1);
    expect(f?.plan).to.equal("flash-op:10=power-cut-torn");
    expect(f?.violations.map((v) => [v.invariant, v.step])).to.deep.equal([["never-bricked", "recovery"]]);
    expect(f?.violations[0]?.message).to.match(/recovery failed with no fault during it: DfuError/);
    expect(f?.minimal?.plan).to.equal("flash-op:1=power-cut");
    expect(f?.minimal?.violations[0]?.invariant).to.equal("never-bricked");
    // Every failure shrinks to a single cut at the first flash operation, request or instant.
    for (const x of r.failures)
      expect(x.minimal?.plan).to.be.oneOf([
        "flash-op:1=power-cut",
        "event:dfu.dnload.block#1=power-cut",
        "event:dfu.request.GETSTATUS#1=power-cut",
        "time:0=power-cut",
      ]);
    // The same plans without the defect pass.
    const clean = await runCampaign({ family: "stm32l432", seed: 1, runs: 4 });
    expect(clean.plans.map((p) => p.plan)).to.deep.equal(r.plans.map((p) => p.plan));
    expect(clean.failures).to.deep.equal([]);
  });
});

describe("campaign: MCUboot upload, test, swap, confirm (nrf52840)", function () {
  this.timeout(120_000);

  it("keeps every invariant on the emulator as it is, sharded as unsharded", async () => {
    const opts = { family: "nrf52840" as const, seed: 4, runs: 6 };
    const whole = await runCampaign(opts);
    expect(whole.failures).to.deep.equal([]);
    expect(whole.faultsFired).to.be.above(0);
    const shards = await Promise.all(
      [0, 1].map((index) => runCampaign({ ...opts, shard: { index, count: 2 } })),
    );
    expect(verdicts(mergeResults(shards))).to.deep.equal(verdicts(whole));
  });

  it("a flash error mid-swap leaves MCUboot in the bootloader; a power cycle resumes it", async () => {
    const bench = await prepareCampaign("nrf52840", defaultRigPath());
    // Flash op 42 of the run is an erase of the swap (the upload's ops come first).
    const v = await bench.runner.run(parsePlan("flash-op:42=flash-fail"));
    expect(v.fired).to.deep.equal(["flash-op:42=flash-fail (flash op 42 (erase 0x81000+4096))"]);
    expect(v.violations).to.deep.equal([]);
  });

  it("calls an upload whose device lost power a timeout the client ends, not a hang", async () => {
    const bench = await prepareCampaign("nrf52840", defaultRigPath());
    const v = await bench.runner.run(parsePlan("event:smp.rx.frame#2=power-cut"));
    expect(v.violations).to.deep.equal([]);
    // The client's own bound: three tries of the 40 s first chunk, on the virtual clock.
    expect(v.deviceMs).to.be.above(120_000);
  });
});

describe("campaign: sim-nor A/B install", function () {
  this.timeout(120_000);

  it("keeps every invariant on the emulator as it is", async () => {
    const r = await runCampaign({ family: "sim-nor", seed: 2, runs: 30 });
    expect(r.failures).to.deep.equal([]);
    expect(r.faultsFired).to.be.above(5);
  });

  it("a cut while staging ends the in-device updater as a device event, and the next boot keeps v1", async () => {
    const bench = await prepareCampaign("sim-nor", defaultRigPath());
    const v = await bench.runner.run(parsePlan("flash-op:3=power-cut-torn,flash-op:40=bit-flip"));
    expect(v.fired.map((f) => f.split(" ")[0])).to.deep.equal([
      "flash-op:3=power-cut-torn",
      "flash-op:40=bit-flip",
    ]);
    expect(v.violations).to.deep.equal([]);
  });
});

describe("campaign: USART write, verify and Go (stm32l432)", function () {
  this.timeout(120_000);

  it("keeps every invariant on the emulator as it is, sharded as unsharded", async () => {
    const opts = { family: "stm32l432-usart", seed: 4, runs: 10 };
    const whole = await runCampaign(opts);
    expect(whole.failures).to.deep.equal([]);
    expect(whole.faultsFired).to.be.above(0);
    const shards = await Promise.all(
      [0, 1].map((index) => runCampaign({ ...opts, shard: { index, count: 2 } })),
    );
    expect(verdicts(mergeResults(shards))).to.deep.equal(verdicts(whole));
  });

  it("reads the application area per write: old, new or erased, garbage only where a fault hit", () => {
    const flash = new Flash({ base: 0x1000, sectors: [{ size: 1024, count: 2 }], programUnit: 8 });
    flash.setPowered(true);
    const v1 = Uint8Array.from({ length: 1024 }, (_, i) => i & 0xff);
    const v2 = Uint8Array.from({ length: 1024 }, (_, i) => (i * 7 + 3) & 0xff);
    const check = appAreaCheck(flash, 0x1000, v1, v2, 256);
    const ctx = new RunContext({ clock: new VirtualClock() } as unknown as Board, "stm32l432-usart");
    // Two writes of the new image landed, the rest of the page is still erased: fine.
    flash.program(0x1000, v2.subarray(0, 512));
    check(ctx, "partial");
    expect(ctx.violations).to.deep.equal([]);
    // A stray byte in the third write's range is neither image.
    flash.program(0x1200, Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7));
    check(ctx, "stray");
    expect(ctx.violations.map((v) => v.message)).to.deep.equal([
      "stray: bytes at 0x1200+256 hold neither image [NNx.]",
    ]);
    // Unless a fault hit that range.
    ctx.violations.length = 0;
    ctx.faulted.push({ address: 0x1200, length: 8 });
    check(ctx, "faulted");
    expect(ctx.violations).to.deep.equal([]);
  });
});

describe("campaign: TKey app load", function () {
  this.timeout(120_000);

  it("keeps every invariant on the emulator as it is, sharded as unsharded", async () => {
    const opts = { family: "tkey", seed: 6, runs: 20 };
    const whole = await runCampaign(opts);
    expect(whole.failures).to.deep.equal([]);
    expect(whole.faultsFired).to.be.above(0);
    expect(whole.flashOps, "a TKey has no flash").to.equal(0);
    const shards = await Promise.all(
      [0, 1].map((index) => runCampaign({ ...opts, shard: { index, count: 2 } })),
    );
    expect(verdicts(mergeResults(shards))).to.deep.equal(verdicts(whole));
  });

  it("a byte flipped in the app data loads another app; the host sees the digest, replugs and reloads", async () => {
    const bench = await prepareCampaign("tkey", defaultRigPath());
    const tkey = bench.board.inspect as { app?: { image: Uint8Array } } | undefined;
    const v = await bench.runner.run(parsePlan("event:tkey.rx.byte#600=bit-flip"), { transcripts: true });
    expect(v.fired).to.have.length(1);
    expect(v.violations).to.deep.equal([]);
    // The update's load ended with the digest mismatch; recovery loaded again.
    expect(Object.keys(v.transcripts ?? {})).to.include.members([
      "update-tkey",
      "recovery-tkey",
      "clean update-tkey",
    ]);
    expect(tkey?.app?.image.length).to.equal(127 * 8 + 40);
  });
});
