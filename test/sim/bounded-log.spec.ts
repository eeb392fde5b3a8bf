/**
 * BoundedLog: keeps the newest entries, and its count marks survive dropping (the evidence
 * of a test is what came after its mark, with how much of it was dropped). Property-tested
 * against an unbounded array.
 */
import { expect } from "chai";
import fc from "fast-check";
import { BoundedLog } from "../../harness/sim/bounded-log.js";

describe("sim/bounded-log", () => {
  it("matches an unbounded log on what it keeps: the newest entries, in order, never more than max", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 50 }), fc.nat(400), fc.nat(400), (max, before, after) => {
        const log = new BoundedLog<number>(max);
        const all: number[] = [];
        const append = (n: number) => {
          for (let i = 0; i < n; i++) {
            log.push(all.length);
            all.push(all.length);
          }
        };
        append(before);
        const mark = log.count;
        append(after);
        expect(log.count).to.equal(all.length);
        expect(log.items.length).to.be.at.most(max);
        expect(log.items).to.deep.equal(all.slice(all.length - log.items.length));
        const { items, dropped } = log.since(mark);
        expect(dropped + items.length, "everything since the mark, kept or dropped").to.equal(after);
        expect(items).to.deep.equal(all.slice(all.length - items.length));
      }),
    );
  });

  it("refuses a max that could not keep anything", () => {
    expect(() => new BoundedLog(1)).to.throw(RangeError, "BoundedLog max must be an integer ≥ 2, got 1");
  });
});
