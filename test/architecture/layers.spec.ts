import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { expect } from "chai";
import { projectRoot } from "../../harness/seams/paths.js";
import { type ImportEdge, readImports } from "./imports.js";
import { checkLayers, folderOf, type KnownArrow, type LayerTable } from "./layers.js";

/**
 * The layer table of docs/architecture.md: what each folder may import besides itself.
 */
const LAYERS: LayerTable = {
  seams: [],
  protocol: ["seams"],
  transport: ["seams", "protocol"],
  sim: ["seams", "protocol"],
  clients: ["seams", "protocol", "transport"],
  devices: ["seams", "protocol", "transport", "sim"],
  expose: ["seams", "protocol", "transport", "sim", "devices"],
  report: ["seams", "protocol", "transport", "clients"],
  lab: ["seams", "protocol", "transport", "sim", "clients", "report"],
  // The rig builds emulated boards through the registry and the emulator base class only.
  rig: [
    ...["seams", "protocol", "transport", "sim", "clients", "report", "lab", "expose"],
    ...["devices/registry.ts", "devices/emulated-device.ts"],
  ],
  mocha: ["seams", "protocol", "transport", "clients", "report", "lab", "rig"],
  campaign: [
    ...["seams", "protocol", "transport", "sim", "clients", "report", "lab", "rig"],
    ...["devices/registry.ts", "devices/emulated-device.ts"],
  ],
  index: ["*"],
  cli: ["*"],
  suites: ["index", "protocol", "clients", "fixtures"],
  test: ["*"],
  bench: ["*"],
  fixtures: ["*"],
  interop: ["*"],
};

/**
 * Arrows the table forbids that the code still has, each `from` file → a module or folder.
 * The list only shrinks: the test fails on an entry no import matches any more.
 */
const KNOWN: readonly KnownArrow[] = [];

const SCANNED = ["harness", "suites", "test", "bench", "fixtures"];

describe("architecture: layers", () => {
  const root = projectRoot();
  const edges = readImports(root, SCANNED);

  it("reads the project's imports", () => {
    // A parser that silently finds nothing would pass everything below.
    expect(edges.length).to.be.greaterThan(500);
    const steps = edges.filter((e) => e.from === "harness/report/steps.ts").map((e) => e.to);
    expect(steps).to.include.members(["harness/seams/board-view.ts", "harness/report/evidence.ts"]);
  });

  it("has no arrow the layer table forbids, beyond the known ones", () => {
    expect(checkLayers(edges, KNOWN, LAYERS).violations).to.deep.equal([]);
  });

  it("has no import cycle between folders", () => {
    expect(checkLayers(edges, KNOWN, LAYERS).cycles).to.deep.equal([]);
  });

  it("lists no known arrow that is gone (the allow-list only shrinks)", () => {
    expect(checkLayers(edges, KNOWN, LAYERS).stale).to.deep.equal([]);
  });

  it("gives every folder of harness/ a row, and the docs show each", () => {
    const docs = readFileSync(join(root, "docs", "architecture.md"), "utf8");
    for (const entry of readdirSync(join(root, "harness"), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      expect(LAYERS, `harness/${entry.name}/ has no row in LAYERS`).to.have.property(entry.name);
      expect(docs, `docs/architecture.md does not mention harness/${entry.name}/`).to.include(
        `harness/${entry.name}/`,
      );
    }
  });

  describe("the checker", () => {
    const edge = (from: string, to: string, line = 1): ImportEdge => ({ from, to, line });

    it("catches an upward arrow, naming the file, line and rule", () => {
      const report = checkLayers([edge("harness/sim/power.ts", "harness/rig/controls.ts", 3)], [], LAYERS);
      expect(report.violations).to.deep.equal([
        "harness/sim/power.ts:3 -> harness/rig/controls.ts (sim may import seams, protocol)",
      ]);
    });

    it("catches a suite importing an emulator, and allows the same import when it is known", () => {
      const bad = edge("suites/x/fixture.ts", "harness/devices/stm32/device.ts");
      expect(checkLayers([bad], [], LAYERS).violations).to.have.length(1);
      const known = [{ from: "suites/x/fixture.ts", to: "harness/devices", why: "" }];
      expect(checkLayers([bad], known, LAYERS)).to.deep.equal({ violations: [], stale: [], cycles: [] });
    });

    it("allows a single module where the table names it, not its neighbours", () => {
      const ok = edge("harness/rig/rig.ts", "harness/devices/registry.ts");
      const bad = edge("harness/rig/rig.ts", "harness/devices/tkey/device.ts");
      expect(checkLayers([ok, bad], [], LAYERS).violations).to.deep.equal([
        `harness/rig/rig.ts:1 -> harness/devices/tkey/device.ts (rig may import ${LAYERS.rig!.join(", ")})`,
      ]);
    });

    it("catches a folder that is not in the table", () => {
      const report = checkLayers([edge("harness/gadgets/a.ts", "harness/seams/clock.ts")], [], LAYERS);
      expect(report.violations).to.deep.equal([
        "harness/gadgets/a.ts:1 -> harness/seams/clock.ts (gadgets is not in the layer table)",
      ]);
      expect(folderOf("harness/odd.ts")).to.equal("harness/odd.ts");
      expect(folderOf("harness/index.ts")).to.equal("index");
    });

    it("leaves a cycle closed by a known arrow to that arrow's entry", () => {
      const up = edge("harness/report/a.ts", "harness/rig/b.ts");
      const down = edge("harness/rig/b.ts", "harness/report/a.ts");
      expect(checkLayers([up, down], [], LAYERS).cycles).to.deep.equal([["report", "rig"]]);
      const known = [{ from: "harness/report/a.ts", to: "harness/rig/b.ts", why: "" }];
      expect(checkLayers([up, down], known, LAYERS)).to.deep.equal({ violations: [], stale: [], cycles: [] });
    });

    it("finds a cycle between folders even when every arrow is allowed", () => {
      const report = checkLayers(
        [edge("test/a.ts", "bench/b.ts"), edge("bench/b.ts", "test/a.ts")],
        [],
        LAYERS,
      );
      expect(report.violations).to.deep.equal([]);
      expect(report.cycles).to.deep.equal([["bench", "test"]]);
    });

    it("reports a known arrow that no import matches any more", () => {
      const known = [{ from: "suites/x/fixture.ts", to: "harness/sim", why: "" }];
      const report = checkLayers([edge("suites/x/fixture.ts", "harness/simulator/a.ts")], known, LAYERS);
      expect(report.stale).to.deep.equal(["suites/x/fixture.ts -> harness/sim"]);
    });

    it("finds planted imports in source of every form, not in comments or strings", () => {
      const dir = mkdtempSync(join(tmpdir(), "hil-layers-"));
      try {
        const file = (path: string, text: string) => {
          mkdirSync(dirname(join(dir, path)), { recursive: true });
          writeFileSync(join(dir, path), text);
        };
        file("harness/rig/controls.ts", "export type PowerControl = object;\n");
        file(
          "harness/sim/bad.ts",
          [
            "// import { x } from '../devices/commented.js';",
            "import {",
            "  type PowerControl,",
            '} from "../rig/controls.js";',
            'export { y } from "../report/z.js";',
            "const text = \"import { q } from '../cli/main.js'\";",
            'const later = () => import("../devices/late.js");',
            'import { ok } from "../seams/clock.js";',
            "",
          ].join("\n"),
        );
        const report = checkLayers(readImports(dir, ["harness"]), [], LAYERS);
        expect(report.violations).to.deep.equal([
          "harness/sim/bad.ts:4 -> harness/rig/controls.ts (sim may import seams, protocol)",
          "harness/sim/bad.ts:5 -> harness/report/z.ts (sim may import seams, protocol)",
          "harness/sim/bad.ts:7 -> harness/devices/late.ts (sim may import seams, protocol)",
        ]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
