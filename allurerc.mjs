// Allure 3 report generator settings for `npm run report` / `npm run regress`:
// one self-contained HTML file under reports/allure-report, history carried in
// reports/history.jsonl from run to run (the nightly job keeps that file).
export default {
  name: "update-hil regression",
  output: "reports/allure-report",
  historyPath: "reports/history.jsonl",
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
