import { expect } from "chai";
import fc from "fast-check";
import { type Fault, FaultPlan, FaultPlanError, formatFault, parseFault } from "../../harness/sim/faults.js";
import { Flash, PowerCutError } from "../../harness/sim/flash.js";
import { Random } from "../../harness/sim/random.js";

describe("sim/FaultPlan", () => {
  it("parses and formats the text form, round trip (property)", () => {
    const where = fc.oneof(
      fc.record({ at: fc.constant("flash-op" as const), op: fc.integer({ min: 1, max: 1e6 }) }),
      fc.record({
        at: fc.constant("flash-op" as const),
        op: fc.integer({ min: 1, max: 1e6 }),
        kind: fc.constantFrom("erase" as const, "program" as const),
      }),
      fc.record({
        at: fc.constant("event" as const),
        event: fc.stringMatching(/^[a-z][\w.-]{0,20}$/),
        occurrence: fc.integer({ min: 1, max: 1000 }),
      }),
      fc.record({ at: fc.constant("time" as const), ms: fc.integer({ min: 0, max: 1e7 }) }),
    );
    const what = fc.constantFrom<Fault["what"]>(
      { do: "power-cut" },
      { do: "power-cut", torn: true },
      { do: "usb-stall" },
      { do: "usb-disconnect" },
      { do: "serial-drop" },
      { do: "serial-corrupt" },
      { do: "flash-fail" },
      { do: "bit-flip" },
    );
    fc.assert(
      fc.property(fc.record({ where, what }), (fault) => {
        const text = formatFault(fault);
        expect(formatFault(parseFault(text))).to.equal(text);
      }),
    );
  });

  it("rejects bad text with a message naming the part", () => {
    expect(() => parseFault("flash-op:x=power-cut")).to.throw(FaultPlanError, /flash op must be N/);
    expect(() => parseFault("flash-op:0=power-cut")).to.throw(FaultPlanError, /integer >= 1/);
    expect(() => parseFault("event:dfu.dnload=power-cut")).to.throw(FaultPlanError, /NAME#OCCURRENCE/);
    expect(() => parseFault("flash-op:3=melt")).to.throw(FaultPlanError, /unknown fault 'melt'/);
    expect(() => parseFault("power-cut")).to.throw(FaultPlanError, /expected WHERE=WHAT/);
  });

  it("fires an event fault on the k-th occurrence only, once, and records it", () => {
    const plan = new FaultPlan([parseFault("event:dfu.dnload.block#3=usb-disconnect")]);
    expect(plan.onEvent("dfu.dnload.block", 1)).to.deep.equal([]);
    expect(plan.onEvent("dfu.dnload.block", 2)).to.deep.equal([]);
    expect(plan.onEvent("dfu.dnload.block", 3)).to.have.length(1);
    expect(plan.onEvent("dfu.dnload.block", 4)).to.deep.equal([]);
    expect(plan.fired.map((f) => [f.t, f.detail])).to.deep.equal([[3, "event dfu.dnload.block #3"]]);
    expect(plan.eventCount("dfu.dnload.block")).to.equal(4);
    expect(plan.eventCount("never")).to.equal(0);
  });

  it("drives flash faults through the flash hook, counting per kind when asked", () => {
    const flash = new Flash({ base: 0, sectors: [{ size: 64, count: 4 }], programUnit: 8 });
    const plan = new FaultPlan([parseFault("flash-op:program#2=power-cut")]);
    flash.setFaultHook((op) => plan.onFlashOp(op, 0));
    flash.erase(0);
    flash.program(0, new Uint8Array(8));
    flash.erase(1);
    expect(() => flash.program(8, new Uint8Array(8))).to.throw(PowerCutError, /operation 4/);
    expect(plan.fired[0]?.detail).to.equal("flash op 4 (program 0x8+8)");
  });

  it("reports time faults when due and the next one to schedule", () => {
    const plan = new FaultPlan([parseFault("time:1500=power-cut"), parseFault("time:200=usb-stall")]);
    expect(plan.nextTimeFault()).to.equal(200);
    expect(plan.dueAt(100)).to.deep.equal([]);
    expect(plan.dueAt(1600).map(formatFault)).to.deep.equal(["time:1500=power-cut", "time:200=usb-stall"]);
    expect(plan.nextTimeFault()).to.equal(undefined);
  });
});

describe("sim/Random", () => {
  it("is reproducible from the seed and forks independently", () => {
    const a = new Random(42);
    const b = new Random(42);
    const xs = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).to.deep.equal(xs);
    expect(new Random(43).nextU32()).to.not.equal(xs[0]);
    expect(new Random(42).fork("line").nextU32()).to.equal(new Random(42).fork("line").nextU32());
    expect(new Random(42).fork("line").nextU32()).to.not.equal(new Random(42).fork("flash").nextU32());
  });

  it("below() stays in range (property)", () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 2 ** 31 }), (seed, bound) => {
        const r = new Random(seed);
        for (let i = 0; i < 20; i++) {
          const v = r.below(bound);
          expect(v).to.be.at.least(0).and.below(bound);
        }
      }),
    );
  });
});
