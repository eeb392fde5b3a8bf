export type FailureCategoryId = "infrastructure" | "firmware-device" | "harness";

export interface FailureCategory {
  readonly id: FailureCategoryId;
  readonly name: string;
  /** The status a result of this category has: "failed" for the firmware/device only. */
  readonly status: "failed" | "broken";
  readonly errorNames: readonly string[];
}

export declare const FAILURE_LABEL: "failure";
export declare const REPORT_CATEGORY_OF: Readonly<
  Record<"infrastructure" | "device" | "harness" | "usage", FailureCategoryId>
>;
export declare function reportCategoryOf(category: unknown): FailureCategoryId | undefined;
export declare const ERROR_CATEGORIES: Readonly<Record<string, FailureCategoryId>>;
export declare const FAILURE_CATEGORIES: readonly FailureCategory[];

export declare function categoryOfClass(cls: unknown): FailureCategoryId | undefined;
export declare function categoryOfError(err: unknown): FailureCategoryId;
export declare function statusOfCategory(category: FailureCategoryId): "failed" | "broken";

export declare function categoryOf(result: {
  status: string;
  labels?: readonly { name: string; value?: string }[];
  errorName?: string | undefined;
  errorCategory?: string | undefined;
}): FailureCategoryId | undefined;

export declare function errorNameOf(text: string | undefined): string | undefined;

export declare function allureCategoryRules(): {
  id: string;
  name: string;
  matchers: Record<string, unknown>[];
  groupBy: { label: string }[];
  expand: boolean;
}[];
