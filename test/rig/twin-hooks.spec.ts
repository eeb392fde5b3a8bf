/**
 * The twin glue (harness/mocha/twin-hooks.ts) on hand-made Mocha suites: which transcripts a
 * test's client operations ran on are recorded; the twin's test is compared with its lab
 * board's; the twin failing where the board passed is a finding, not a failure.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import Mocha from "mocha";
import {
  type OperationObserver,
  observeOperations,
  operation,
  operationObserver,
} from "../../harness/clients/operation.js";
import {
  collectingTranscripts,
  TWIN_FINDINGS_ENV,
  type TwinFinding,
  wrapTestsForTwin,
} from "../../harness/mocha/twin-hooks.js";
import type { Board } from "../../harness/rig/board.js";
import { Transcript } from "../../harness/transport/transcript.js";

const board = (id: string, twinOf?: string) =>
  ({ id, emulator: undefined, ...(twinOf ? { twinOf } : {}) }) as unknown as Board;

/** A board's describe with one test whose body sends `bytes` through a client operation, then does `after`. */
function boardSuite(title: string, bytes: number[], after: () => void = () => {}): Mocha.Suite {
  const suite = new Mocha.Suite(title);
  const transcript = new Transcript();
  suite.addTest(
    new Mocha.Test("probes", async () => {
      await operation({ kind: "usart", transcript }, "probe", async () => {
        transcript.record({ dir: "tx", bytes: Uint8Array.from(bytes) });
      });
      after();
    }),
  );
  return suite;
}

/** This spec's own Allure result must not carry twin labels. */
const NO_ALLURE = { allure: false };

const run = (suite: Mocha.Suite) => (suite.tests[0]!.fn as (this: unknown) => Promise<void>).call({});

describe("mocha/twin-hooks: recording, comparing, reporting", () => {
  let dir: string;
  let findings: string;
  // The suites' observer (forEachBoard's), put back after each test.
  let outer: OperationObserver | undefined;
  beforeEach(async () => {
    outer = operationObserver();
    dir = await mkdtemp(join(tmpdir(), "hil-twin-hooks-"));
    findings = join(dir, "findings.jsonl");
    process.env[TWIN_FINDINGS_ENV] = findings;
    observeOperations(collectingTranscripts((_source, _title, body) => body({ retitle() {} })));
  });
  afterEach(async () => {
    delete process.env[TWIN_FINDINGS_ENV];
    observeOperations(outer);
    await rm(dir, { recursive: true, force: true });
  });
  const read = async () =>
    (await readFile(findings, "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as TwinFinding);

  it("compares the twin's test with the board's test of the same title: equal, then the exchange where they part", async () => {
    for (const [id, bytes] of [
      ["a", [0x7f]],
      ["b", [0x7f]],
      ["c", [0x7f]],
    ] as const) {
      const lab = boardSuite(`${id} (stm32l432)`, [...bytes]);
      wrapTestsForTwin(lab, board(id), () => [], NO_ALLURE);
      await run(lab);
      const twin = boardSuite(`${id}-twin (stm32l432)`, id === "c" ? [0x7f, 0x00] : [...bytes]);
      wrapTestsForTwin(
        twin,
        board(`${id}-twin`, id),
        () => ["AN3155: Get (0x00), Get Version (0x01), Get ID (0x02)"],
        NO_ALLURE,
      );
      await run(twin);
    }
    const [a, , c] = await read();
    expect(a).to.include({ lab: "a", twin: "a-twin", test: "probes", equal: true });
    expect(c).to.include({ lab: "c", equal: false });
    // The first exchange: the twin sent a byte more.
    expect(c!.divergence).to.include({ index: 0 });
    expect([c!.divergence!.lab.hex, c!.divergence!.twin.hex]).to.deep.equal(["7f", "7f00"]);
  });

  it("the twin failing where its board passed is a finding (the test passes); the board's own failure still fails", async () => {
    const lab = boardSuite("l (x)", [1]);
    wrapTestsForTwin(lab, board("l"), () => [], NO_ALLURE);
    await run(lab);
    const twin = boardSuite("l-twin (x)", [1], () => {
      throw new Error("NackError: Get refused");
    });
    wrapTestsForTwin(twin, board("l-twin", "l"), () => [], NO_ALLURE);
    await run(twin); // does not throw
    const [f] = await read();
    expect(f).to.include({ equal: false });
    expect(f!.divergence).to.include({ outcomeOnly: true });
    expect(f!.divergence!.twin.state).to.match(/outcome: failed \(NackError: Get refused\)$/);

    const failing = boardSuite("m (x)", [1], () => {
      throw new Error("board failed");
    });
    wrapTestsForTwin(failing, board("m"), () => [], NO_ALLURE);
    const err = await run(failing).catch((e: unknown) => e as Error);
    expect((err as Error).message).to.equal("board failed");
  });

  it("a twin test whose board never ran it says so", async () => {
    const twin = boardSuite("z-twin (x)", [1]);
    wrapTestsForTwin(twin, board("z-twin", "z"), () => [], NO_ALLURE);
    await run(twin);
    expect((await read())[0])
      .to.include({ equal: "no lab run" })
      .and.not.have.property("divergence");
  });
});
