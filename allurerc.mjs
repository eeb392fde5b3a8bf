// Allure 3 report generator settings for `hil report` (`npm run report`, `npm run regress`):
// one self-contained HTML file under reports/allure-report, history carried in
// reports/history.jsonl from run to run (the nightly job keeps that file), the failure
// categories (infrastructure / firmware-device / harness) from harness/report, and the run's
// environment block (rig, boards, seeds, faults, versions) that `hil report` writes first.
import { readFileSync } from "node:fs";
import { allureCategoryRules } from "./harness/report/failure-categories.mjs";

function environment() {
  const path = process.env.HIL_REPORT_ENVIRONMENT ?? "reports/environment.json";
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return {}; // `allure generate` run by hand before `hil report`: no environment block
  }
}

export default {
  name: "update-hil regression",
  // `hil report --out DIR` moves both (DIR/allure-report, DIR/history.jsonl).
  output: process.env.HIL_REPORT_OUTPUT ?? "reports/allure-report",
  historyPath: process.env.HIL_REPORT_HISTORY ?? "reports/history.jsonl",
  // Trend over the last 20 runs; older entries drop out of the file. Each entry adds about
  // 0.5 MB to the single-file report (about 10 MB without history on the emulated rack).
  historyLimit: 20,
  categories: allureCategoryRules(),
  variables: environment(),
  plugins: {
    awesome: {
      options: {
        singleFile: true,
        reportName: "update-hil regression",
        groupBy: ["parentSuite", "suite", "subSuite"],
      },
    },
  },
};
