/**
 * Which of the three failure categories a failed test belongs to (the table is in
 * failure-categories.mjs, shared with the Allure config): infrastructure, firmware-device or
 * harness. {@link classifyError} is what the suite hook puts on a failed result as the
 * `failure` label and into the repro bundle; {@link categoryOf} re-derives it from a stored
 * result. The status follows the category ({@link statusOfCategory}), never the message.
 */
import { categoryOfError, type FailureCategoryId } from "./failure-categories.mjs";

export {
  allureCategoryRules,
  categoryOf,
  categoryOfClass,
  categoryOfError,
  ERROR_CATEGORIES,
  errorNameOf,
  FAILURE_CATEGORIES,
  FAILURE_LABEL,
  type FailureCategoryId,
  REPORT_CATEGORY_OF,
  reportCategoryOf,
  statusOfCategory,
} from "./failure-categories.mjs";

/** The category of a thrown error, from the error itself (its class, a category it declares). */
export function classifyError(err: unknown): FailureCategoryId {
  return categoryOfError(err);
}
