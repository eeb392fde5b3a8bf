import { expect } from "chai";
import fc from "fast-check";
import {
  Flash,
  FlashReadProtectedError,
  FlashUnpoweredError,
  PowerCutError,
} from "../../harness/sim/flash.js";

const BASE = 0x0800_0000;

function smallFlash(seed = 0): Flash {
  // Mixed sector sizes on purpose: 2 × 64, 1 × 128, 2 × 32 bytes; 8-byte program unit.
  return new Flash(
    {
      base: BASE,
      sectors: [
        { size: 64, count: 2 },
        { size: 128, count: 1 },
        { size: 32, count: 2 },
      ],
      programUnit: 8,
    },
    { seed },
  );
}

type Op = { kind: "erase"; sector: number } | { kind: "program"; offset: number; data: Uint8Array };

const opArb = (flash: Flash): fc.Arbitrary<Op> =>
  fc.oneof(
    fc.record({ kind: fc.constant("erase" as const), sector: fc.nat({ max: flash.sectors.length - 1 }) }),
    fc.record({
      kind: fc.constant("program" as const),
      offset: fc.nat({ max: flash.size / 8 - 1 }).map((u) => u * 8),
      data: fc
        .integer({ min: 1, max: 3 })
        .chain((units) => fc.uint8Array({ minLength: units * 8, maxLength: units * 8 })),
    }),
  );

/** Reference model: a plain byte array with the NOR rules written out the obvious way. */
function applyToModel(model: Uint8Array, flash: Flash, op: Op): boolean {
  if (op.kind === "erase") {
    const s = flash.sectors[op.sector]!;
    model.fill(0xff, s.start - BASE, s.start - BASE + s.size);
    return true;
  }
  if (op.offset + op.data.length > model.length) return false;
  if (!model.subarray(op.offset, op.offset + op.data.length).every((b) => b === 0xff)) return false;
  model.set(op.data, op.offset);
  return true;
}

function apply(flash: Flash, op: Op) {
  return op.kind === "erase" ? flash.erase(op.sector) : flash.program(BASE + op.offset, op.data);
}

describe("sim/Flash (NOR rules)", () => {
  it("starts erased and reports its geometry", () => {
    const f = smallFlash();
    expect(f.size).to.equal(320);
    expect(f.sectors.map((s) => [s.start - BASE, s.size])).to.deep.equal([
      [0, 64],
      [64, 64],
      [128, 128],
      [256, 32],
      [288, 32],
    ]);
    expect(f.isErased(BASE, f.size)).to.equal(true);
    expect(f.sectorAt(BASE + 200)?.index).to.equal(2);
    expect(f.sectorAt(BASE + 320)).to.equal(undefined);
  });

  it("refuses misaligned and not-erased programming without changing a byte", () => {
    const f = smallFlash();
    expect(f.program(BASE + 4, new Uint8Array(8))).to.include({ ok: false, reason: "misaligned" });
    expect(f.program(BASE, new Uint8Array(6))).to.include({ ok: false, reason: "misaligned" });
    expect(f.program(BASE, new Uint8Array(8).fill(0x12)).ok).to.equal(true);
    const r = f.program(BASE, new Uint8Array(8).fill(0x00));
    expect(r).to.include({ ok: false, reason: "not-erased", address: BASE });
    expect([...f.peek(BASE, 8)]).to.deep.equal(Array(8).fill(0x12));
    expect(f.program(BASE + 320, new Uint8Array(8))).to.include({ ok: false, reason: "out-of-range" });
  });

  it("honours per-sector write protection for erase and program", () => {
    const f = smallFlash();
    f.load(BASE + 64, new Uint8Array(8).fill(0x55));
    f.setWriteProtected(1, true);
    expect(f.erase(1)).to.include({ ok: false, reason: "write-protected" });
    expect(f.program(BASE + 72, new Uint8Array(8))).to.include({ ok: false, reason: "write-protected" });
    // A program spanning into the protected sector is refused whole.
    expect(f.program(BASE + 56, new Uint8Array(16))).to.include({ ok: false, reason: "write-protected" });
    expect(f.isErased(BASE + 56, 8)).to.equal(true);
    expect(f.peek(BASE + 64, 1)[0]).to.equal(0x55);
  });

  it("refuses device reads of read-protected regions but lets a test peek", () => {
    const f = smallFlash();
    f.load(BASE, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    f.setReadProtection((addr) => addr < BASE + 64);
    expect(() => f.read(BASE, 4)).to.throw(FlashReadProtectedError, /0x8000000 is read-protected/);
    expect([...f.peek(BASE, 4)]).to.deep.equal([1, 2, 3, 4]);
    expect(f.read(BASE + 64, 4).length).to.equal(4);
  });

  it("counts every erase and program, refused ones included", () => {
    const f = smallFlash();
    f.erase(0);
    f.program(BASE, new Uint8Array(8));
    f.program(BASE, new Uint8Array(8)); // refused: not erased
    expect(f.counters).to.deep.equal({ erases: 1, programs: 2, ops: 3 });
  });

  it("behaves like the reference model for any operation sequence (property)", () => {
    fc.assert(
      fc.property(fc.array(opArb(smallFlash()), { maxLength: 40 }), (ops) => {
        const f = smallFlash();
        const model = new Uint8Array(f.size).fill(0xff);
        for (const op of ops) {
          const expectedOk = applyToModel(model, f, op);
          expect(apply(f, op).ok).to.equal(expectedOk);
        }
        expect(f.peek(BASE, f.size)).to.deep.equal(model);
        expect(f.counters.ops).to.equal(ops.length);
      }),
    );
  });

  it("a cut before operation N leaves exactly the first N-1 operations applied (property)", () => {
    fc.assert(
      fc.property(fc.array(opArb(smallFlash()), { minLength: 1, maxLength: 30 }), fc.nat(), (ops, pick) => {
        const n = (pick % ops.length) + 1;
        const reference = smallFlash();
        for (const op of ops.slice(0, n - 1)) apply(reference, op);

        const f = smallFlash();
        f.armCut(n);
        let cutAt: number | undefined;
        for (const op of ops) {
          try {
            apply(f, op);
          } catch (e) {
            expect(e).to.be.instanceOf(PowerCutError);
            cutAt = (e as PowerCutError).op.n;
            break;
          }
        }
        expect(cutAt).to.equal(n);
        expect(f.peek(BASE, f.size)).to.deep.equal(reference.peek(BASE, reference.size));
        expect(f.powered).to.equal(false);
        expect(() => f.erase(0)).to.throw(FlashUnpoweredError);
      }),
    );
  });

  it("a torn cut changes only the interrupted operation's range, in the physically possible direction, reproducibly from the seed (property)", () => {
    fc.assert(
      fc.property(
        fc.array(opArb(smallFlash()), { minLength: 1, maxLength: 20 }),
        fc.nat(),
        fc.integer(),
        (ops, pick, seed) => {
          const n = (pick % ops.length) + 1;
          const run = () => {
            const f = smallFlash(seed);
            f.armCut(n, { torn: true });
            let before: Uint8Array = new Uint8Array();
            for (const [i, op] of ops.entries()) {
              if (i === n - 1) before = f.peek(BASE, f.size);
              try {
                apply(f, op);
              } catch {
                break;
              }
            }
            return { before, after: f.peek(BASE, f.size), op: ops[n - 1]! };
          };
          const a = run();
          const b = run();
          expect(a.after).to.deep.equal(b.after, "same seed, same tear");
          const op = a.op;
          const [lo, hi] =
            op.kind === "erase"
              ? [
                  smallFlash().sectors[op.sector]!.start - BASE,
                  smallFlash().sectors[op.sector]!.start - BASE + smallFlash().sectors[op.sector]!.size,
                ]
              : [op.offset, op.offset + op.data.length];
          for (let i = 0; i < a.after.length; i++) {
            const was = a.before[i]!;
            const now = a.after[i]!;
            if (i < lo || i >= hi) expect(now, `byte ${i} outside the torn op`).to.equal(was);
            else if (op.kind === "erase") expect(now & was, `erase only sets bits at ${i}`).to.equal(was);
            else expect(now & ~was, `program only clears bits at ${i}`).to.equal(0);
          }
        },
      ),
    );
  });

  it("snapshot and restore round-trip contents, counters and protection, and snapshots stay immutable (property)", () => {
    fc.assert(
      fc.property(
        fc.array(opArb(smallFlash()), { maxLength: 15 }),
        fc.array(opArb(smallFlash()), { maxLength: 15 }),
        (first, second) => {
          const f = smallFlash();
          for (const op of first) apply(f, op);
          const contents = f.peek(BASE, f.size);
          const counters = f.counters;
          const snap = f.snapshot();
          f.setWriteProtected(0, true);
          for (const op of second) apply(f, op);
          f.restore(snap);
          expect(f.peek(BASE, f.size)).to.deep.equal(contents);
          expect(f.counters).to.deep.equal(counters);
          expect(f.isWriteProtected(0)).to.equal(false);
          // Writing after restore must not leak into the snapshot.
          for (const op of second) apply(f, op);
          f.restore(snap);
          expect(f.peek(BASE, f.size)).to.deep.equal(contents);
        },
      ),
    );
  });

  it("injected program failures and bit flips come from the fault hook", () => {
    const f = smallFlash(7);
    f.setFaultHook((op) =>
      op.n === 1 ? { action: "fail" } : op.n === 2 ? { action: "bit-flip", count: 1 } : undefined,
    );
    expect(f.program(BASE, new Uint8Array(8))).to.include({ ok: false, reason: "fault" });
    expect(f.isErased(BASE, 8)).to.equal(true);
    expect(f.program(BASE, new Uint8Array(8)).ok).to.equal(true);
    const bits = [...f.peek(BASE, 8)].reduce((n, b) => n + popcount(b), 0);
    expect(bits).to.equal(1);
  });

  it("rejects a cut armed for an operation that already ran", () => {
    const f = smallFlash();
    f.erase(0);
    expect(() => f.armCut(1)).to.throw(RangeError, /future operation/);
  });
});

function popcount(b: number): number {
  let n = 0;
  for (let x = b; x; x >>= 1) n += x & 1;
  return n;
}
