/**
 * The family table of docs/architecture.md against the tree: every family in FAMILIES has a
 * row, and each folder, emulator, lab strategy, suite and CLI name the row gives exists and
 * serves that family. A family added in one place and forgotten in another fails here.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { EMULATE_FAMILIES, emulateFamily } from "../../harness/cli/emulate-families.js";
import { createEmulatedBoard, emulatedFamilies } from "../../harness/devices/registry.js";
import { FAMILIES, type Family } from "../../harness/seams/family.js";
import { projectRoot } from "../../harness/seams/paths.js";
import { VirtualClock } from "../../harness/sim/virtual-clock.js";

const root = projectRoot();

interface FamilyRow {
  families: string[];
  protocol: string[];
  devices: string[];
  clients: string[];
  suites: string[];
  cli: string;
}

/** The rows of the "## Families" table; each cell's `code` spans, the folder names. */
function familyRows(): FamilyRow[] {
  const doc = readFileSync(join(root, "docs", "architecture.md"), "utf8");
  const section = doc.slice(doc.indexOf("## Families"));
  const lines = section.split("\n").filter((l) => l.startsWith("| `"));
  const code = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  return lines.map((line) => {
    const cells = line.split("|").slice(1, -1);
    expect(cells, `a family row has six cells: ${line}`).to.have.length(6);
    const [families, protocol, devices, clients, suites, cli] = cells as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    return {
      families: code(families),
      protocol: code(protocol),
      // `stm32/{dfu,usart,fus}` names three folders; a profile in brackets is not a folder.
      devices: code(devices.replace(/\(.*?\)/g, "")).flatMap((d) => {
        const m = /^(.*)\/\{(.*)\}$/.exec(d);
        return m ? m[2]!.split(",").map((part) => `${m[1]}/${part}`) : [d];
      }),
      clients: code(clients.replace(/\(.*?\)/g, "")),
      suites: code(suites),
      cli,
    };
  });
}

const rows = familyRows();

/** Suites folders that serve several families, named on the page's "Cross-family suites" line. */
function crossFamilySuites(): string[] {
  const doc = readFileSync(join(root, "docs", "architecture.md"), "utf8");
  const line = /^Cross-family suites: (.*(?:\n(?!\n).*)*)/m.exec(doc)?.[1] ?? "";
  return [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
}
const rowOf = (family: Family) => rows.find((r) => r.families.includes(family));

describe("architecture: the family table", () => {
  it("has one row for each family the rig files accept, and no other", () => {
    expect(rows.flatMap((r) => r.families).sort()).to.deep.equal([...FAMILIES].sort());
  });

  for (const family of FAMILIES) {
    describe(family, () => {
      it("its protocol, devices and clients folders exist", () => {
        const row = rowOf(family)!;
        for (const folder of row.protocol)
          expect(existsSync(join(root, "harness", "protocol", folder)), `protocol/${folder}`).to.equal(true);
        for (const folder of row.devices)
          expect(existsSync(join(root, "harness", "devices", folder)), `devices/${folder}`).to.equal(true);
        for (const folder of row.clients)
          expect(existsSync(join(root, "harness", "clients", folder)), `clients/${folder}`).to.equal(true);
      });

      it("the registry builds its emulator, with a strategy and an inspect view", () => {
        expect(emulatedFamilies()).to.include(family);
        const parts = createEmulatedBoard(family, { clock: new VirtualClock(), seed: 1 });
        expect(parts.device.family).to.equal(family);
        expect(parts.inspect, "inspect view").to.not.equal(undefined);
        // No emulator strategy: the family's lab strategy serves it as it is (a TKey: a replug).
        if (parts.strategy) {
          expect(parts.strategy.states, "strategy states").to.include("off");
          expect(parts.strategy.states).to.include(parts.strategy.afterFactory);
        }
      });

      it("its row's suites folders exist, each selects a family of the row, and one selects this one", () => {
        const row = rowOf(family)!;
        expect(row.suites, "at least one suites folder").to.not.be.empty;
        const names = (name: string, text: string) => text.includes(`"${name}"`);
        const texts = row.suites.map((folder) => {
          const dir = join(root, "suites", folder);
          expect(existsSync(dir), `suites/${folder}`).to.equal(true);
          const text = readdirSync(dir)
            .filter((f) => f.endsWith(".ts"))
            .map((f) => readFileSync(join(dir, f), "utf8"))
            .join("\n");
          expect(
            row.families.some((f) => names(f, text)),
            `suites/${folder} names one of ${row.families.join(", ")}`,
          ).to.equal(true);
          return text;
        });
        expect(
          texts.some((text) => names(family, text)),
          `a suite of the row names ${family}`,
        ).to.equal(true);
      });

      it("hil emulate serves it under its rig name where the table gives a CLI name", () => {
        const row = rowOf(family)!;
        const served = row.cli.includes(`emulate ${family}`);
        expect((EMULATE_FAMILIES as readonly string[]).includes(family), "in EMULATE_FAMILIES").to.equal(
          served,
        );
        if (served) expect(emulateFamily(family)).to.equal(family);
      });
    });
  }

  it("every suites and devices folder belongs to a family row", () => {
    const suites = readdirSync(join(root, "suites"), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    const cross = crossFamilySuites();
    for (const folder of cross) expect(suites, `cross-family suites/${folder}`).to.include(folder);
    expect(suites.filter((s) => !cross.includes(s)).sort()).to.deep.equal(
      [...new Set(rows.flatMap((r) => r.suites))].sort(),
    );
    const devices = readdirSync(join(root, "harness", "devices"), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    const named = new Set(rows.flatMap((r) => r.devices.map((d) => d.split("/")[0]!)));
    expect(devices.sort()).to.deep.equal([...named].sort());
  });
});
