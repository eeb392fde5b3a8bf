import { expect } from "chai";
import fc from "fast-check";
import { Flash } from "../../harness/sim/flash.js";
import { everyPoint, flashOpCut, type SweepSpec, shareOf, sweep } from "../../harness/sim/sweep.js";
import { VirtualClock } from "../../harness/sim/virtual-clock.js";

/**
 * A toy updater on a 4 × 32-byte flash: erase sector 1, then program it in four 8-byte
 * units (five flash operations), each operation taking 10 ms of device time.
 */
function toyUpdater(clock = new VirtualClock()) {
  const flash = new Flash({ base: 0, sectors: [{ size: 32, count: 4 }], programUnit: 8 }, { seed: 1 });
  const OLD = new Uint8Array(32).fill(0x11);
  const NEW = Uint8Array.from({ length: 32 }, (_, i) => i);
  flash.load(32, OLD);
  const start = flash.snapshot();
  const update = async () => {
    flash.erase(1);
    await clock.sleep(10);
    for (let off = 0; off < 32; off += 8) {
      flash.program(32 + off, NEW.subarray(off, off + 8));
      await clock.sleep(10);
    }
  };
  const sector1 = (): string => {
    const now = flash.peek(32, 32);
    if (now.every((b, i) => b === OLD[i])) return "old";
    if (now.every((b, i) => b === NEW[i])) return "new";
    if (now.every((b) => b === 0xff)) return "erased";
    return "partial";
  };
  const back = () => {
    flash.setPowered(true);
    flash.restore(start);
  };
  return { clock, flash, update, sector1, back };
}

/** The toy's sweep: count with one clean update, cut each point, tally what sector 1 holds. */
function toySpec(t: ReturnType<typeof toyUpdater>, extra: Partial<SweepSpec> = {}): SweepSpec {
  return {
    clock: t.clock,
    count: async () => {
      const ops = t.flash.counters.ops;
      await t.update();
      return t.flash.counters.ops - ops;
    },
    run: async (n) => {
      t.back();
      flashOpCut(t.flash)(n);
      await t.update();
    },
    check: async () => ({ outcome: t.sector1() }),
    ...extra,
  };
}

describe("sim/sweep", () => {
  it("counts the clean run's cut points, cuts before each one and tallies where the flash came back", async () => {
    const r = await sweep(toySpec(toyUpdater()));
    expect(r.total).to.equal(5);
    expect(r.points).to.equal(5);
    expect(r.failures).to.deep.equal([]);
    // Before the erase: old; before the first program: erased; before programs 2..4: part new.
    expect(r.outcomes).to.deep.equal({ old: 1, erased: 1, partial: 3 });
  });

  it("hands the run's error (the cut) to check, and does not count it as a failure", async () => {
    const seen: string[] = [];
    const t = toyUpdater();
    const r = await sweep(
      toySpec(t, {
        check: async (n, total, thrown) => {
          seen.push(`${n}/${total}: ${(thrown as Error).message.replace(/ \(.*/, "")}`);
          return undefined;
        },
      }),
    );
    expect(seen).to.deep.equal([1, 2, 3, 4, 5].map((n) => `${n}/5: power cut before flash operation ${n}`));
    expect(r.failures).to.deep.equal([]);
    expect(r.outcomes).to.deep.equal({});
  });

  it("tries only the points given (a lab sample or a worker's share)", async () => {
    const tried: number[] = [];
    const t = toyUpdater();
    const r = await sweep(
      toySpec(t, {
        points: (total) => shareOf(total, 1, 2),
        check: async (n) => {
          tried.push(n);
          return { outcome: t.sector1() };
        },
      }),
    );
    expect(tried).to.deep.equal([1, 3, 5]);
    expect(r).to.include({ total: 5, points: 3 });
    expect(r.outcomes).to.deep.equal({ old: 1, partial: 2 });
  });

  it("labels each problem with its point, and goes on after a check that throws", async () => {
    const t = toyUpdater();
    const r = await sweep(
      toySpec(t, {
        label: (n, total) => `flash op ${n}/${total}`,
        check: async (n) => {
          if (n === 2) return "came back erased";
          if (n === 3) throw new Error("no reply");
          if (n === 4) return { outcome: "partial", problem: ["first", "second"] };
          return { outcome: t.sector1() };
        },
      }),
    );
    expect(r.failures).to.deep.equal([
      "flash op 2/5: came back erased",
      "flash op 3/5: no reply",
      "flash op 4/5: first",
      "flash op 4/5: second",
    ]);
    expect(r.outcomes).to.deep.equal({ old: 1, partial: 2 });
    expect(r.points).to.equal(5);
  });

  it("labels a point 'cut N' by default, for any point type", async () => {
    const r = await sweep<[number, number]>({
      count: async () => 2,
      points: () => [
        [1, 2],
        [2, 1],
      ],
      run: async () => {},
      check: async ([a]) => (a === 2 ? "bad" : undefined),
    });
    expect(r.failures).to.deep.equal(["cut 2,1: bad"]);
  });

  it("measures the whole sweep, clean run included, in device time", async () => {
    const t = toyUpdater();
    const t0 = 1234;
    await t.clock.sleep(t0);
    const r = await sweep(toySpec(t));
    // Clean run: 5 ops × 10 ms. A cut before op n ends the run after n-1 ops, 10 ms each.
    expect(r.deviceMs).to.equal(50 + (0 + 10 + 20 + 30 + 40));
    expect(t.clock.now()).to.equal(t0 + r.deviceMs);
    const noClock = await sweep({ ...toySpec(toyUpdater()), clock: undefined });
    expect(noClock.deviceMs).to.equal(0);
  });

  it("refuses a count that is no number of points", async () => {
    for (const bad of [-1, 1.5, Number.NaN])
      await sweep({ count: async () => bad, run: async () => {}, check: async () => undefined }).then(
        () => expect.fail(`count ${bad} accepted`),
        (e: Error) => expect(e.message).to.match(/count\(\) returned .*whole number of cut points/),
      );
  });

  it("flashOpCut arms the cut relative to the operations done so far, clean or torn", () => {
    const t = toyUpdater();
    t.flash.erase(0);
    t.flash.erase(0);
    flashOpCut(t.flash, true)(2);
    expect(() => t.flash.erase(0)).not.to.throw();
    expect(() => t.flash.erase(2)).to.throw(/power cut before flash operation 4 .*torn/);
  });

  it("shareOf: the shares partition 1..total", () => {
    fc.assert(
      fc.property(fc.nat({ max: 200 }), fc.integer({ min: 1, max: 8 }), (total, shares) => {
        const all = Array.from({ length: shares }, (_, s) => [...shareOf(total, s, shares)]).flat();
        expect(all.sort((a, b) => a - b)).to.deep.equal([...everyPoint(total)]);
      }),
    );
    expect(() => [...shareOf(5, 2, 2)]).to.throw(/share 2 of 2/);
    expect(() => [...shareOf(5, 0, 0)]).to.throw(/share 0 of 0/);
  });
});
