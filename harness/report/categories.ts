/**
 * Which of the three failure categories a failed test belongs to (the table is in
 * failure-categories.mjs, shared with the Allure config): infrastructure, firmware-device or
 * harness. {@link classifyError} is what the suite hook puts on a failed result as the
 * `failure` label; {@link categoryOf} re-derives it from a stored result.
 */
import { getStatusFromError } from "allure-js-commons/sdk";
import { categoryOf, type FailureCategoryId } from "./failure-categories.mjs";

export {
  allureCategoryRules,
  categoryOf,
  errorNameOf,
  FAILURE_CATEGORIES,
  FAILURE_LABEL,
  type FailureCategoryId,
} from "./failure-categories.mjs";

/** The category of a thrown error, with the status Allure gives it (assertion: failed, else broken). */
export function classifyError(err: unknown): FailureCategoryId {
  const status = getStatusFromError(err as Error);
  const e = (typeof err === "object" && err !== null ? err : {}) as { name?: unknown; category?: unknown };
  return (
    categoryOf({
      status,
      errorName: typeof e.name === "string" ? e.name : undefined,
      errorCategory: typeof e.category === "string" ? e.category : undefined,
    }) ?? "harness"
  );
}
