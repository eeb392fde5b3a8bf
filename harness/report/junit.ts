/**
 * JUnit XML for CI systems, from the Allure results of a run: one <testsuite> per top-level
 * suite (the parentSuite label: "stm32-dfu: full update"), one <testcase> per test and board.
 * failed → <failure>, broken → <error>, skipped → <skipped>; the failure category is the
 * `type` attribute, so CI shows "infrastructure" apart from "firmware-device". Run-level facts
 * (seed, faults, versions) go in <properties> of every testsuite. Deterministic: the same
 * results give the same bytes.
 */
import { stripAnsi } from "allure-js-commons/sdk";
import { skipReason } from "./matrix.js";
import { type HilResult, label, labelValues } from "./results.js";

export interface JunitOptions {
  /** Name of the <testsuites> element. */
  name?: string;
  /** Properties of the run (seed, rig, versions), written into each testsuite. */
  properties?: Record<string, string>;
}

/** Replaces what XML 1.0 cannot carry at all (C0 controls but tab, LF, CR; U+FFFE/F; lone surrogates). */
function xmlChars(text: string): string {
  let out = "";
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    const bad =
      (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) ||
      c === 0xfffe ||
      c === 0xffff ||
      (c >= 0xd800 && c <= 0xdfff);
    out += bad ? "\uFFFD" : ch;
  }
  return out;
}

/** Text safe inside an XML attribute or element. */
export function xmlEscape(text: string): string {
  return xmlChars(stripAnsi(text))
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

/** The testcase classname: suite path, then the board ("stm32-dfu: full update.l432-1 (stm32)"). */
function className(r: HilResult): string {
  const parts = ["parentSuite", "suite", "subSuite"].flatMap((n) => labelValues(r, n));
  return parts.length > 0 ? parts.join(".") : (label(r, "package") ?? "tests");
}

export function toJunitXml(results: readonly HilResult[], opts: JunitOptions = {}): string {
  const suites = new Map<string, HilResult[]>();
  for (const r of results) {
    const suite = label(r, "parentSuite") ?? label(r, "package") ?? "tests";
    const list = suites.get(suite) ?? [];
    list.push(r);
    suites.set(suite, list);
  }
  const count = (list: readonly HilResult[], s: HilResult["status"]) =>
    list.filter((r) => r.status === s).length;
  const time = (list: readonly HilResult[]) => list.reduce((t, r) => t + Math.max(0, r.stop - r.start), 0);
  const props = Object.entries(opts.properties ?? {}).sort(([a], [b]) => a.localeCompare(b));

  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    `<testsuites name="${xmlEscape(opts.name ?? "update-hil")}" tests="${results.length}" failures="${count(results, "failed")}" errors="${count(results, "broken")}" skipped="${count(results, "skipped")}" time="${seconds(time(results))}">`,
  );
  for (const [name, list] of [...suites].sort(([a], [b]) => a.localeCompare(b))) {
    const start = Math.min(...list.map((r) => r.start));
    out.push(
      `  <testsuite name="${xmlEscape(name)}" tests="${list.length}" failures="${count(list, "failed")}" errors="${count(list, "broken")}" skipped="${count(list, "skipped")}" time="${seconds(time(list))}"${start > 0 ? ` timestamp="${new Date(start).toISOString().replace(/\.\d+Z$/, "")}"` : ""}>`,
    );
    if (props.length > 0) {
      out.push("    <properties>");
      for (const [k, v] of props)
        out.push(`      <property name="${xmlEscape(k)}" value="${xmlEscape(v)}"/>`);
      out.push("    </properties>");
    }
    for (const r of list) {
      const open = `    <testcase name="${xmlEscape(r.name)}" classname="${xmlEscape(className(r))}" time="${seconds(r.stop - r.start)}"`;
      const caseProps = [
        ...labelValues(r, "clause").map((v) => ["clause", v] as const),
        ...(["rig", "board", "board.serial"] as const).flatMap((n) =>
          labelValues(r, n).map((v) => [n, v] as const),
        ),
        ...r.parameters.map((p) => [p.name, p.value] as const),
      ];
      const body: string[] = [];
      if (caseProps.length > 0) {
        body.push("      <properties>");
        for (const [k, v] of caseProps)
          body.push(`        <property name="${xmlEscape(k)}" value="${xmlEscape(v)}"/>`);
        body.push("      </properties>");
      }
      const message = r.message.split("\n")[0] ?? "";
      if (r.status === "failed" || r.status === "broken") {
        const tag = r.status === "failed" ? "failure" : "error";
        body.push(
          `      <${tag} message="${xmlEscape(message)}" type="${xmlEscape(r.category ?? "harness")}">${xmlEscape(r.trace || r.message)}</${tag}>`,
        );
      } else if (r.status === "skipped" || r.status === "unknown") {
        // Why: the reason the suite recorded (a quarantined board, a lease that timed out).
        const why = skipReason(r).split("\n")[0] ?? "";
        body.push(why ? `      <skipped message="${xmlEscape(why)}"/>` : "      <skipped/>");
      }
      out.push(body.length > 0 ? `${open}>\n${body.join("\n")}\n    </testcase>` : `${open}/>`);
    }
    out.push("  </testsuite>");
  }
  out.push("</testsuites>");
  return `${out.join("\n")}\n`;
}
