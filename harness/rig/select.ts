/**
 * Which boards of a rig a suite can run on, why it is skipped when none can, and the
 * report labels that tell a hardware fault on one board from a test fault. Pure: no
 * mocha, no I/O (but `os.hostname()`).
 */
import { hostname } from "node:os";
import type { Board, Capability, Family } from "./board.js";

/** What a suite needs of a board. */
export interface BoardNeed {
  /** One family, or any of several. */
  readonly family: Family | readonly Family[];
  /** Every one of these, on the same board. */
  readonly capabilities?: readonly Capability[];
}

export interface Selection {
  /** Matching boards, in rig order. */
  readonly boards: Board[];
  /** Set exactly when `boards` is empty: what the rig lacks, naming the boards that came closest. */
  readonly skipReason?: string;
}

/** The part of a rig that selection and labels read (harness/rig/rig.ts's `Rig` fits). */
export interface RigView {
  readonly name: string;
  readonly boards: readonly Board[];
}

/**
 * Boards that have one of the families and all of the capabilities in `need`.
 * `rigName` goes into the skip reason: "rig 'lab' has no board of family stm32wb55",
 * "rig 'lab': boards of family stm32wb55 (wb-1, wb-2) lack capability sacrificial".
 */
export function selectBoards(boards: readonly Board[], need: BoardNeed, rigName?: string): Selection {
  const families: readonly Family[] = typeof need.family === "string" ? [need.family] : need.family;
  if (families.length === 0) throw new RangeError("selectBoards: need.family names no family");
  const wanted = [...new Set(need.capabilities ?? [])];
  const familyText = `family ${families.join(" or ")}`;

  const ofFamily = boards.filter((board) => families.includes(board.family));
  if (ofFamily.length === 0) {
    return {
      boards: [],
      skipReason: `${rigName ? `rig '${rigName}' has` : "the rig has"} no board of ${familyText}`,
    };
  }

  const lacking = ofFamily.map((board) => ({
    board,
    missing: wanted.filter((capability) => !board.capabilities.has(capability)),
  }));
  const matching = lacking.filter((entry) => entry.missing.length === 0).map((entry) => entry.board);
  if (matching.length > 0) return { boards: matching };

  const prefix = rigName ? `rig '${rigName}': ` : "";
  const ids = ofFamily.map((board) => board.id).join(", ");
  const first = lacking[0]!.missing;
  if (lacking.every((entry) => sameList(entry.missing, first))) {
    const one = ofFamily.length === 1;
    const capabilities = `${first.length === 1 ? "capability" : "capabilities"} ${first.join(", ")}`;
    return {
      boards: [],
      skipReason: `${prefix}${one ? "board" : "boards"} of ${familyText} (${ids}) ${one ? "lacks" : "lack"} ${capabilities}`,
    };
  }
  const each = lacking.map((entry) => `${entry.board.id} lacks ${entry.missing.join(", ")}`).join("; ");
  return {
    boards: [],
    skipReason: `${prefix}no board of ${familyText} has all of ${wanted.join(", ")} (${each})`,
  };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

/** An Allure label, as `allure-js-commons` takes it. */
export interface Label {
  readonly name: string;
  readonly value: string;
}

/** Names of the labels {@link boardLabels} writes; `version.` is followed by an `info` key. */
export const LABEL_NAMES = Object.freeze({
  rig: "rig",
  board: "board",
  serial: "board.serial",
  family: "family",
  /** "emulated" or "lab". */
  kind: "board.kind",
  /** The power backend ("emulated", "uhubctl", ...), to tell flaky power switching apart. */
  power: "board.power",
  host: "host",
  versionPrefix: "version.",
});

/**
 * Labels for every result of a test run on `board`: rig, board id and serial, family,
 * emulated or lab, power backend, host, and `version.<key>` for each `info` entry
 * (bootloader, firmware, ...). A missing serial is left out, not reported empty.
 */
export function boardLabels(rig: Pick<RigView, "name">, board: Board): Label[] {
  const labels: Label[] = [
    { name: LABEL_NAMES.rig, value: rig.name },
    { name: LABEL_NAMES.board, value: board.id },
  ];
  if (board.serial !== undefined) labels.push({ name: LABEL_NAMES.serial, value: board.serial });
  labels.push(
    { name: LABEL_NAMES.family, value: board.family },
    { name: LABEL_NAMES.kind, value: board.twinOf ? "twin" : board.emulated ? "emulated" : "lab" },
    { name: LABEL_NAMES.power, value: board.power.backend },
    { name: LABEL_NAMES.host, value: hostname() },
  );
  for (const [key, value] of Object.entries(board.info)) {
    labels.push({ name: `${LABEL_NAMES.versionPrefix}${key}`, value });
  }
  return labels;
}
