import { expect } from "chai";
import fc from "fast-check";
import { VerdictMemo } from "../../harness/seams/verdict-memo.js";

describe("seams: VerdictMemo", () => {
  it("answers as the check does for any inputs, asking the check once per distinct inputs (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom("a", "b", "ab"), fc.uint8Array({ maxLength: 3 })), {
          maxLength: 40,
        }),
        fc.integer({ min: 1, max: 8 }),
        (queries, capacity) => {
          const memo = new VerdictMemo(capacity);
          const decide = (tag: string, bytes: Uint8Array) =>
            (tag.length + bytes.reduce((n, b) => n + b, 0)) % 2 === 0;
          let asked = 0;
          const seen = new Set<string>();
          for (const [tag, bytes] of queries) {
            const got = memo.check([tag, bytes], () => {
              asked++;
              return decide(tag, bytes);
            });
            expect(got).to.equal(decide(tag, bytes));
            seen.add(`${tag}/${[...bytes]}`);
          }
          // Strings and bytes never run together: "a"+[0x62] is not "ab"+[].
          if (capacity >= queries.length) expect(asked).to.equal(seen.size);
        },
      ),
    );
  });
});
