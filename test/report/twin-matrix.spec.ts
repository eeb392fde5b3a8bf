/**
 * Twin results in the qualification matrix: not a board column of their own, but a
 * "lab = emulator" column per clause and a section listing each divergence.
 */
import { expect } from "chai";
import {
  buildMatrix,
  type ClauseCatalogue,
  matrixHtml,
  matrixMarkdown,
} from "../../harness/report/matrix.js";
import { toHilResult } from "../../harness/report/results.js";

const GET = "AN3155: Get (0x00), Get Version (0x01), Get ID (0x02)";
const GO = "AN3155: Go (0x21)";
const catalogue: ClauseCatalogue = { documents: [{ document: "AN3155", clauses: [GET, GO] }] };

const result = (name: string, boardId: string, clause: string, extra: Record<string, string> = {}) =>
  toHilResult({
    uuid: `${name}-${boardId}`,
    historyId: `${name}-${boardId}`,
    name,
    fullName: `suites/stm32-usart: ${name}`,
    status: "passed",
    start: 0,
    stop: 1,
    labels: Object.entries({ rig: "lab", board: boardId, family: "stm32l432", clause, ...extra }).map(
      ([n, value]) => ({ name: n, value }),
    ),
    parameters: [],
  });

describe("report: twin runs in the qualification matrix", () => {
  const results = [
    result("probe", "l432", GET),
    result("probe", "l432-twin", GET, {
      "twin-of": "l432",
      "lab-equals-emulator": "no",
      "twin-divergence": "exchange 2: lab usart << rx ACK + 1 byte: 7979 / twin usart << rx ACK: 79",
    }),
    result("go", "l432", GO),
    result("go", "l432-twin", GO, { "twin-of": "l432", "lab-equals-emulator": "yes" }),
  ];

  it("keeps twins out of the board columns and says per clause whether lab = emulator", () => {
    const m = buildMatrix(catalogue, results);
    expect(m.columns).to.deep.equal(["lab / l432"]);
    expect(m.twins).to.equal(true);
    expect(m.rows.map((r) => [r.clause, r.status, r.twin?.status])).to.deep.equal([
      [GET, "passed", "no"],
      [GO, "passed", "yes"],
    ]);
    const md = matrixMarkdown(m);
    expect(md).to.include("| clause | cites | severity | lab / l432 | lab = emulator | tests |");
    expect(md).to.include(
      "| passed | no: probe: exchange 2: lab usart << rx ACK + 1 byte: 7979 / twin usart << rx ACK: 79 | probe |",
    );
    expect(md).to.include("| passed | yes | go |");
    expect(md).to.include("## Lab = emulator: divergences found by twin runs");
    expect(matrixHtml(m)).to.include('<td class="diverged">no: probe: exchange 2');
  });

  it("without twin results there is no such column or section", () => {
    const m = buildMatrix(catalogue, [results[0]!, results[2]!]);
    expect(m.twins).to.equal(false);
    expect(matrixMarkdown(m)).to.not.include("lab = emulator");
    expect(matrixHtml(m)).to.not.include("lab = emulator");
  });
});
