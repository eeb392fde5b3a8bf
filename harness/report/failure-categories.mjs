// Failure categories that never mix: a nightly report says at a glance whether the lab, the
// firmware or our own harness failed. One table, read by allurerc.mjs (Allure 3 `categories`
// rules for the generated report) and by harness/report/categories.ts (the `failure` label on
// each failed result, the repro bundle, JUnit XML, the qualification matrix). Plain
// JavaScript so the Allure CLI can load it without a TypeScript loader.

/** Name of the label that carries a failed result's category id. */
export const FAILURE_LABEL = "failure";

/**
 * Report category of each category an error declares (harness/seams/errors.ts `HilError`:
 * every error class the harness exports has one). The report ids stay what they were:
 * a device's failure is "firmware-device", a caller's bad request is filed with our own.
 */
export const REPORT_CATEGORY_OF = Object.freeze({
  infrastructure: "infrastructure",
  device: "firmware-device",
  harness: "harness",
  usage: "harness",
});

/**
 * Report categories by class name, for what carries no category of its own: foreign errors
 * (chai's AssertionError) and stored results that kept only the error's name (the Allure
 * rules see only a trace's first word). A harness error's own `category` comes first;
 * test/report/error-categories.spec.ts checks each exported class's declared category
 * agrees with its row here, and that every exported Error class has one.
 *
 * - infrastructure: the lab failed: board not found, lease timeout, power backend, rig file,
 *   USB/IP link, a port closing or a device leaving the bus under its client.
 * - firmware-device: a documented behaviour was violated: a suite's expectation failed
 *   (chai's AssertionError), or a host client reported the device's answer: a status, a
 *   NACK, an unexpected or malformed reply, a wrong digest, or silence. A timeout is the
 *   device's: a client waits for an answer the document promises within a budget on a link
 *   that is still there (a link that went away is StreamClosedError / DFU "disconnected" /
 *   DeviceGoneError, the lab's), and a hung bootloader (WB55 extended erase 0xFFFF) looks
 *   exactly like that. A lab board that times out is still re-checked by the run.
 * - harness: our own code or input: an emulator's internal error escaping to a test, a file
 *   refused before anything was sent (image, key, options, fault plan), a safety stop.
 */
export const ERROR_CATEGORIES = Object.freeze({
  // The roots of the tree (harness/seams/errors.ts, harness/clients/errors.ts).
  HilError: "harness",
  HarnessError: "harness",
  ClientError: "firmware-device",
  SerialClientError: "firmware-device",
  // The lab.
  InfrastructureError: "infrastructure",
  RigFileError: "infrastructure",
  SequenceSyntaxError: "infrastructure", // a rig file's stm32flash -i sequence
  SkipScenario: "infrastructure", // escaped its skip: the rig cannot run the scenario
  StreamClosedError: "infrastructure",
  LinkClosedError: "infrastructure", // the USART adapter's port closed under the client
  SmpLinkClosedError: "infrastructure", // the SMP console's port closed under the client
  TKeyGoneError: "infrastructure", // the TKey's port closed: unplugged or unpowered
  TKeyAbsentError: "infrastructure", // an emulated TKey unplugged from its port
  DeviceGoneError: "infrastructure", // USB/IP: the exported device left
  UsbipProtocolError: "infrastructure", // the USB/IP link spoke no USB/IP
  LeaseLostError: "infrastructure", // the board's etcd lease ended under its holder: fenced
  EtcdCallError: "infrastructure", // etcd answered a lease call with an error
  RemotePortError: "infrastructure", // a rack host's TCP port (ser2net, SCPI) did not connect or broke
  Rfc2217Error: "infrastructure", // an RFC 2217 server refused a port setting or did not answer
  UsbipUnreachableError: "infrastructure", // a USB/IP server (rack host) does not answer
  UsbipImportRefusedError: "infrastructure", // the remote device is not exported now
  // The firmware / device, as the suite or a client saw it.
  AssertionError: "firmware-device",
  TimeoutError: "firmware-device",
  SetupTimeoutError: "infrastructure", // socat, an emulator process or a server did not come up
  ReadTimeoutError: "firmware-device",
  DfuError: "firmware-device", // kind "disconnected" says infrastructure, "usage" harness (`category`)
  DfuPayloadError: "firmware-device",
  UsartError: "firmware-device",
  NackError: "firmware-device",
  UsartTimeoutError: "firmware-device",
  UnexpectedReplyError: "firmware-device",
  UnsupportedCommandError: "firmware-device",
  UsartCodecError: "firmware-device",
  FusClientError: "firmware-device", // kind "refused" says usage itself (`category`)
  FusReplyError: "firmware-device",
  DeviceInfoError: "firmware-device",
  TKeyError: "firmware-device",
  TKeySilentError: "firmware-device",
  TKeyNokError: "firmware-device",
  TKeyStatusError: "firmware-device",
  TKeyProtocolError: "firmware-device",
  TKeyDigestError: "firmware-device",
  TKeyFrameError: "firmware-device",
  SmpError: "firmware-device",
  SmpTimeoutError: "firmware-device",
  SmpReplyError: "firmware-device", // a malformed SMP reply or an upload that makes no progress
  SmpCborError: "firmware-device",
  SmpHeaderError: "firmware-device",
  UpdateError: "firmware-device", // sim-nor: the device's own update refused
  // Our own code and input.
  UsageError: "harness",
  PtyPathTakenError: "harness", // hil emulate --uart-pty PATH names something not ours
  TKeyInputError: "harness", // refused before anything was sent
  TKeyOptionsError: "harness",
  EmulatorOptionError: "harness",
  CalibrationError: "harness", // hil calibrate / a calibration file: no figures for the board
  ImageFileError: "harness",
  FusFooterError: "harness",
  McubootImageError: "harness",
  McubootKeyError: "harness",
  FaultPlanError: "harness",
  IrreversibleOperationRefused: "harness", // a safety stop, asked for without consent
  // An emulator's internals: they end device work and never reach a test unless the
  // emulator has a bug.
  SessionEnded: "harness",
  FlashAreaError: "harness",
  FlashReadProtectedError: "harness",
  FlashUnpoweredError: "harness",
  PowerCutError: "harness",
  PowerLostError: "harness",
});

/**
 * In match order: the first category whose rule fits wins. `errorNames` are the class names
 * of {@link ERROR_CATEGORIES} in it (for the Allure rules, which see only a trace's first
 * word); `status` is the status a result of this category has (see {@link statusOfCategory}).
 */
export const FAILURE_CATEGORIES = Object.freeze(
  [
    { id: "infrastructure", name: "Infrastructure (lab)", status: "broken" },
    { id: "firmware-device", name: "Firmware / device", status: "failed" },
    { id: "harness", name: "Harness (our own exception)", status: "broken" },
  ].map((c) => ({
    ...c,
    errorNames: Object.keys(ERROR_CATEGORIES).filter((n) => ERROR_CATEGORIES[n] === c.id),
  })),
);

const IDS = new Set(FAILURE_CATEGORIES.map((c) => c.id));

/**
 * The category a class resolves to: its own entry or its nearest listed ancestor's, else
 * undefined (a class the table does not know).
 */
export function categoryOfClass(cls) {
  for (let c = cls; typeof c === "function" && c !== Error && c !== Object; c = Object.getPrototypeOf(c))
    if (Object.hasOwn(ERROR_CATEGORIES, c.name)) return ERROR_CATEGORIES[c.name];
  return undefined;
}

/** The report id of a declared category (an error's `category`, or a report id itself), else undefined. */
export function reportCategoryOf(category) {
  if (typeof category !== "string") return undefined;
  if (Object.hasOwn(REPORT_CATEGORY_OF, category)) return REPORT_CATEGORY_OF[category];
  return IDS.has(category) ? category : undefined;
}

/**
 * The category of a thrown value, from the error itself, never from its message: the
 * `category` it declares (every harness error: "device", "usage", ...; a DFU device leaving
 * the bus says "infrastructure"), else its class or nearest listed ancestor, its `name`;
 * anything else (TypeError, a string) is the harness's.
 */
export function categoryOfError(err) {
  if (typeof err !== "object" || err === null) return "harness";
  const declared = reportCategoryOf(err.category);
  if (declared) return declared;
  const byClass = categoryOfClass(err.constructor);
  if (byClass) return byClass;
  if (typeof err.name === "string" && Object.hasOwn(ERROR_CATEGORIES, err.name))
    return ERROR_CATEGORIES[err.name];
  return "harness";
}

/** A failed or broken result's status: "failed" for the firmware/device, "broken" for the rest. */
export function statusOfCategory(category) {
  return category === "firmware-device" ? "failed" : "broken";
}

/**
 * The category id of a failed or broken result, from what a report still has: the
 * `failure` label the harness put, else a category the error declared, else the error's
 * class name (the first word of the stack or message). Never its status or message text
 * (Allure guesses "failed" from /assert/i anywhere in the message). `undefined` for passed
 * and skipped results.
 */
export function categoryOf({ status, labels = [], errorName, errorCategory }) {
  if (status !== "failed" && status !== "broken") return undefined;
  const labelled = labels.find((l) => l.name === FAILURE_LABEL)?.value;
  if (labelled && IDS.has(labelled)) return labelled;
  const declared = reportCategoryOf(errorCategory);
  if (declared) return declared;
  if (errorName && Object.hasOwn(ERROR_CATEGORIES, errorName)) return ERROR_CATEGORIES[errorName];
  return "harness";
}

/** The error class name at the start of a stack trace or message ("DfuError: DFU download ..."). */
export function errorNameOf(text) {
  const m = /^\s*([A-Za-z_$][\w$]*)(?:\s*\[[^\]]*\])?:/.exec(text ?? "");
  return m ? m[1] : undefined;
}

/**
 * Allure 3 `categories` rules (config key `categories`) equivalent to {@link categoryOf}: the
 * `failure` label first, then the error name at the start of the trace or message, then
 * the harness for the rest. `hil report` has set each result's status from its category
 * before Allure reads it. Allure adds its defaults ("Product errors", "Test errors") after
 * these; nothing failed or broken reaches them.
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
    if (c.id === "harness") matchers.push({ statuses: ["failed", "broken"] });
    return { id: c.id, name: c.name, matchers, groupBy: [{ label: "board" }], expand: true };
  });
}
