// Failure categories that never mix: a nightly report says at a glance whether the lab, the
// firmware or our own harness failed. One table, read by allurerc.mjs (Allure 3 `categories`
// rules for the generated report) and by harness/report/categories.ts (the `failure` label on
// each failed result, JUnit XML, the qualification matrix). Plain JavaScript so the Allure CLI
// can load it without a TypeScript loader.

/** Name of the label that carries a failed result's category id. */
export const FAILURE_LABEL = "failure";

/**
 * In match order: the first category whose rule fits wins.
 * - infrastructure: the lab failed (board not found, lease timeout, power backend, USB/IP, pty,
 *   a port closing or a DFU device leaving the bus under its client).
 *   Errors carrying `category: "infrastructure"` (InfrastructureError and its subclasses) or
 *   named in `errorNames`.
 * - firmware-device: a documented behaviour was violated: an assertion failed, or a host client
 *   reported the device's answer (bStatus, NACK, silence, wrong digest, unexpected reply).
 * - harness: anything else that broke (TypeError in our code, a bad fault plan, an emulator bug).
 */
export const FAILURE_CATEGORIES = Object.freeze([
  {
    id: "infrastructure",
    name: "Infrastructure (lab)",
    // A serial port closing under its client (USART adapter, TKey) means it was unplugged or
    // lost power: the lab, never the firmware (the recheck decides whether the board sits out).
    errorNames: [
      "InfrastructureError",
      "RigFileError",
      "LinkClosedError",
      "StreamClosedError",
      "TKeyGoneError",
    ],
    statuses: ["failed", "broken"],
  },
  {
    id: "firmware-device",
    name: "Firmware / device",
    errorNames: [
      "AssertionError",
      "DfuError",
      "DfuPayloadError",
      "UsartError",
      "NackError",
      "UsartTimeoutError",
      "UnexpectedReplyError",
      "UnsupportedCommandError",
      "UsartCodecError",
      "TKeyError",
      "TKeySilentError",
      "TKeyNokError",
      "TKeyStatusError",
      "TKeyProtocolError",
      "TKeyDigestError",
      "TKeyFrameError",
      "SmpError",
      "SmpTimeoutError",
      "SmpCborError",
      "SmpHeaderError",
      "ReadTimeoutError",
      "UpdateError",
    ],
    // An assertion failure is always the device's: Allure marks it "failed" (not "broken").
    statuses: ["failed"],
  },
  {
    id: "harness",
    name: "Harness (our own exception)",
    errorNames: [],
    statuses: ["broken"],
  },
]);

/**
 * The category id of a failed or broken result, from what a report still has: its status, the
 * `failure` label if the harness put one, and the error's name (the first word of the stack or
 * message). `undefined` for passed and skipped results.
 */
export function categoryOf({ status, labels = [], errorName, errorCategory }) {
  if (status !== "failed" && status !== "broken") return undefined;
  const labelled = labels.find((l) => l.name === FAILURE_LABEL)?.value;
  if (labelled && FAILURE_CATEGORIES.some((c) => c.id === labelled)) return labelled;
  if (errorCategory === "infrastructure") return "infrastructure";
  for (const c of FAILURE_CATEGORIES) if (errorName && c.errorNames.includes(errorName)) return c.id;
  for (const c of FAILURE_CATEGORIES)
    if (c.statuses.includes(status) && c.id !== "infrastructure") return c.id;
  return "harness";
}

/** The error class name at the start of a stack trace or message ("DfuError: DFU download ..."). */
export function errorNameOf(text) {
  const m = /^\s*([A-Za-z_$][\w$]*)(?:\s*\[[^\]]*\])?:/.exec(text ?? "");
  return m ? m[1] : undefined;
}

/**
 * Allure 3 `categories` rules (config key `categories`) equivalent to {@link categoryOf}: the
 * `failure` label first, then the error name at the start of the trace or message, then the
 * status. Allure adds its defaults ("Product errors", "Test errors") after these; nothing
 * failed or broken reaches them.
 */
export function allureCategoryRules() {
  const names = (c) => `^\\s*(?:${c.errorNames.join("|")})(?:\\s*\\[[^\\]]*\\])?:`;
  return FAILURE_CATEGORIES.map((c) => {
    const matchers = [{ statuses: ["failed", "broken"], labels: { [FAILURE_LABEL]: `^${c.id}$` } }];
    if (c.errorNames.length > 0)
      matchers.push(
        { statuses: ["failed", "broken"], trace: names(c) },
        { statuses: ["failed", "broken"], message: names(c) },
      );
    if (c.id !== "infrastructure") matchers.push({ statuses: c.statuses });
    return { id: c.id, name: c.name, matchers, groupBy: [{ label: "board" }], expand: true };
  });
}
