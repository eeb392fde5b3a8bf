import { expect } from "chai";
import fc from "fast-check";
import { DfuStatus, type DfuStatusName } from "../../harness/protocol/dfu/index.js";
import { type Fault, FaultPlan, FaultPlanError, formatFault, parseFault } from "../../harness/sim/faults.js";
import { Flash, PowerCutError } from "../../harness/sim/flash.js";
import { Random } from "../../harness/sim/random.js";

/** Every DFU 1.1 bStatus but OK: what a dfu-status fault may report. */
const FAILURE_STATUSES = (Object.keys(DfuStatus) as DfuStatusName[]).filter((n) => n !== "OK");

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
      ...FAILURE_STATUSES.map((status) => ({ do: "dfu-status" as const, status })),
    );
    fc.assert(
      fc.property(fc.record({ where, what }), (fault) => {
        const text = formatFault(fault);
        // At a bare time only a power cut can happen: anything else is refused, named.
        if (fault.where.at === "time" && fault.what.do !== "power-cut")
          expect(() => parseFault(text)).to.throw(FaultPlanError, `fault ${text}: only power-cut`);
        else expect(formatFault(parseFault(text))).to.equal(text);
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

  it("dfu-status-<name>: every DFU 1.1 failure status, parsed to its name and formatted back", () => {
    expect(FAILURE_STATUSES).to.have.length(15);
    for (const status of FAILURE_STATUSES) {
      const text = `event:dfu.dnload.block#3=dfu-status-${status}`;
      const fault = parseFault(text);
      expect(fault).to.deep.equal({
        where: { at: "event", event: "dfu.dnload.block", occurrence: 3 },
        what: { do: "dfu-status", status },
      });
      expect(formatFault(fault)).to.equal(text);
    }
  });

  it("dfu-status: an unknown status name (or OK) is an error naming the text and the name", () => {
    for (const [text, name] of [
      ["event:dfu.dnload.block#3=dfu-status-errBOGUS", "errBOGUS"],
      ["event:dfu.dnload.block#3=dfu-status-errprog", "errprog"],
      ["event:dfu.dnload.block#3=dfu-status-OK", "OK"],
      ["event:dfu.dnload.block#3=dfu-status-", ""],
    ] as const)
      expect(() => parseFault(text))
        .to.throw(FaultPlanError, `fault '${text}': unknown DFU status '${name}'`)
        .with.property("message")
        .that.contains("errPROG");
    // Built as data (rig file, scenario), the same check.
    const bogus = { do: "dfu-status", status: "errBOGUS" as DfuStatusName } as const;
    expect(() => new FaultPlan([{ where: { at: "time", ms: 0 }, what: bogus }])).to.throw(
      FaultPlanError,
      "fault time:0=dfu-status-errBOGUS: unknown DFU status 'errBOGUS'",
    );
  });

  it("armed() shows the faults of an event's next occurrence without counting or firing them", () => {
    const plan = new FaultPlan([parseFault("event:dfu.dnload.block#2=dfu-status-errPROG")]);
    expect(plan.armed("dfu.dnload.block")).to.deep.equal([]);
    plan.onEvent("dfu.dnload.block", 1);
    expect(plan.armed("dfu.dnload.block").map(formatFault)).to.deep.equal([
      "event:dfu.dnload.block#2=dfu-status-errPROG",
    ]);
    expect(plan.eventCount("dfu.dnload.block")).to.equal(1);
    expect(plan.fired).to.deep.equal([]);
    expect(plan.onEvent("dfu.dnload.block", 2)).to.have.length(1);
    expect(plan.armed("dfu.dnload.block")).to.deep.equal([]);
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
    const plan = new FaultPlan([parseFault("time:1500=power-cut"), parseFault("time:200=power-cut-torn")]);
    expect(plan.nextTimeFault()).to.equal(200);
    expect(plan.dueAt(100)).to.deep.equal([]);
    expect(plan.dueAt(1600).map(formatFault)).to.deep.equal([
      "time:1500=power-cut",
      "time:200=power-cut-torn",
    ]);
    expect(plan.nextTimeFault()).to.equal(undefined);
    // Anything but a power cut at a bare instant would never fire: refused, named.
    expect(() => parseFault("time:200=usb-stall")).to.throw(
      "fault time:200=usb-stall: only power-cut can fire at a time; usb-stall needs a flash-op: or event: position",
    );
  });
});

describe("sim/FaultPlan.replace", () => {
  it("disarms the old faults and counts events from 0 again; the fired log stays", () => {
    const plan = new FaultPlan([parseFault("event:x#2=usb-stall"), parseFault("event:y#1=usb-stall")]);
    expect(plan.onEvent("y", 0)).to.have.length(1);
    plan.onEvent("x", 0);
    plan.replace([parseFault("event:x#1=power-cut")]);
    expect(plan.eventCount("x")).to.equal(0);
    // The old x#2 is gone: the first x now fires the new fault, the second fires nothing.
    expect(plan.onEvent("x", 5).map((f) => formatFault(f))).to.deep.equal(["event:x#1=power-cut"]);
    expect(plan.onEvent("x", 6)).to.deep.equal([]);
    expect(plan.firedCount).to.equal(2);
    expect(() =>
      plan.replace([{ where: { at: "event", event: "", occurrence: 1 }, what: { do: "power-cut" } }]),
    ).to.throw(FaultPlanError);
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

  it("bytes(n) draws what n calls of byte() draw, and the sequence goes on from there (property)", () => {
    fc.assert(
      fc.property(fc.integer(), fc.nat(300), (seed, n) => {
        const one = new Random(seed);
        const many = new Random(seed);
        const drawn = Array.from({ length: n }, () => one.byte());
        expect([...many.bytes(n)]).to.deep.equal(drawn);
        expect(many.nextU32()).to.equal(one.nextU32());
      }),
    );
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
