export type FailureCategoryId = "infrastructure" | "firmware-device" | "harness";

export interface FailureCategory {
  readonly id: FailureCategoryId;
  readonly name: string;
  readonly errorNames: readonly string[];
  readonly statuses: readonly ("failed" | "broken")[];
}

export declare const FAILURE_LABEL: "failure";
export declare const FAILURE_CATEGORIES: readonly FailureCategory[];

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
