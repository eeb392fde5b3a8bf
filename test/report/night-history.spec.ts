import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import {
  appendNight,
  NIGHT_FORMAT,
  readNights,
  type TwinNight,
  twinChangeLines,
  twinChanges,
} from "../../harness/report/night-history.js";

const t = (test: string, equal: TwinNight["equal"], divergence?: string): TwinNight => ({
  lab: "l432",
  test,
  equal,
  ...(divergence ? { divergence } : {}),
});

describe("report/night-history: twin comparisons from night to night", () => {
  it("a divergence appears, stays (not said again), and goes", () => {
    const n1 = [t("probe", true), t("erase", true)];
    const n2 = [t("probe", false, "exchange 2: 7979 / 79"), t("erase", true)];
    const n3 = [t("probe", false, "exchange 2: 7979 / 79"), t("erase", true)];
    const n4 = [t("probe", true), t("erase", "no lab run")];
    expect(twinChangeLines(twinChanges(n1, n2))).to.deep.equal([
      "twin: new divergence on l432: probe: exchange 2: 7979 / 79",
    ]);
    expect(twinChangeLines(twinChanges(n2, n3))).to.deep.equal([]);
    expect(twinChangeLines(twinChanges(n3, n4))).to.deep.equal([
      "twin: divergence gone on l432: probe (was exchange 2: 7979 / 79)",
    ]);
    // The first night with twins: every divergence is new.
    expect(twinChanges(undefined, n2).appeared).to.deep.equal([n2[0]]);
  });

  it("reads back what it appended, skips other formats' lines and keeps sections it does not know", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hil-nights-"));
    try {
      const file = join(dir, "hil-history.jsonl");
      expect(await readNights(file)).to.deep.equal([]);
      await writeFile(file, `${JSON.stringify({ uuid: "an allure data point" })}\n`);
      await appendNight(file, { format: NIGHT_FORMAT, at: "2026-01-01T00:00:00Z", twin: [t("probe", true)] });
      await appendNight(file, {
        format: NIGHT_FORMAT,
        at: "2026-01-02T00:00:00Z",
        power: { cuts: [1, 2] },
      });
      const nights = await readNights(file);
      expect(nights.map((n) => [n.at, n.twin?.length, n.power])).to.deep.equal([
        ["2026-01-01T00:00:00Z", 1, undefined],
        ["2026-01-02T00:00:00Z", undefined, { cuts: [1, 2] }],
      ]);
      await writeFile(file, '{"format":"update-hil/night@1"}\n{not json\n');
      const err = await readNights(file).catch((e: unknown) => e as Error);
      expect((err as Error).message).to.match(/hil-history\.jsonl:2: not JSON/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
