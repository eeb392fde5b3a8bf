import { type Board, buildSimNorImage, inspectIf, Random, type SimNorInspect } from "../../harness/index.js";

/**
 * The white-box view of a sim-nor board: the family has no host protocol, its updater is
 * driven from inside. The suites' BoardNeed asks for `inspect`, so every selected board has it.
 */
export function simNor(board: Board): SimNorInspect {
  const view = inspectIf(board, "sim-nor");
  if (!view) throw new Error(`board ${board.id} was selected without the inspect capability`);
  return view;
}

/** Two images of different sizes and contents, derived from the board's seed. */
export function images(board: Board): { v1: Uint8Array; v2: Uint8Array } {
  const r = new Random(board.seed).fork("images");
  const payload = (n: number) => r.bytes(n);
  return { v1: buildSimNorImage(1, payload(5000)), v2: buildSimNorImage(2, payload(7000)) };
}

/** Factory state (the board's strategy): v1 in the primary slot, the rest erased, board powered off. */
export async function factoryReset(board: Board, v1: Uint8Array): Promise<void> {
  await board.strategy.factoryReset({ image: v1 });
}

export function slot(dev: SimNorInspect, which: "primary" | "secondary", length: number): Uint8Array {
  return dev.slot(which, length);
}
