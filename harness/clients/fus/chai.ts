/**
 * Chai assertion for FUS state traces (design.md "Assertions name documented values"):
 *
 * ```ts
 * chai.use(fusTraceChai);
 * expect(client.trace).to.follow(["IDLE", "FW_UPGRD_ONGOING", "FW_UPGRD_ONGOING|reset+", "NOT_RUNNING"]);
 * ```
 * Items are trace labels (`traceLabel`: states, "ERROR:<Table 11 name>", "NOT_RUNNING",
 * "reset"), alternatives with "|", quantifiers "+", "*", "?".
 */
import { type FusTraceEntry, followsPattern, traceLabel } from "./trace.js";

declare global {
  namespace Chai {
    interface Assertion {
      follow(pattern: readonly string[]): Assertion;
    }
  }
}

export function fusTraceChai(chai: Chai.ChaiStatic, utils: Chai.ChaiUtils): void {
  utils.addMethod(
    chai.Assertion.prototype,
    "follow",
    function (this: Chai.AssertionStatic, pattern: readonly string[]) {
      const trace = utils.flag(this, "object") as readonly FusTraceEntry[];
      const labels = trace.map(traceLabel);
      this.assert(
        followsPattern(labels, pattern),
        `expected FUS trace [${labels.join(" ")}] to follow [${pattern.join(" ")}]`,
        `expected FUS trace [${labels.join(" ")}] not to follow [${pattern.join(" ")}]`,
        pattern,
        labels,
      );
      return this;
    },
  );
}
