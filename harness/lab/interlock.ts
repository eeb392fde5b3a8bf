/**
 * The irreversible-operation interlock: the one place that decides whether an operation
 * that cannot be undone on real silicon may run on a board.
 *
 * Irreversible: locking the FUS customer authentication key, readout protection level 2,
 * option bytes that would keep the chip from booting, and anything a client marks so.
 * On a lab board it runs only when the rig file lists the board `sacrificial` AND the run
 * was started with `hil run --allow-irreversible` (HIL_ALLOW_IRREVERSIBLE=1). Emulated
 * boards are always sacrificial: a reset of the emulator undoes everything.
 *
 * Clients never import the rig; callers check here before the first byte is sent:
 *
 * ```ts
 * await withIrreversible(board, "rdp-level-2", () => client.writeOptionBytes(rdp2));
 * // or hand a client a guard it calls before sending:
 * const guard = irreversibleGuard(board); guard("fus-auth-key-lock");
 * ```
 */
import { type ErrorCategory, HilError } from "../seams/errors.js";

/** Environment variable `hil run --allow-irreversible` sets; suites run under Mocha read it. */
export const ALLOW_IRREVERSIBLE_ENV = "HIL_ALLOW_IRREVERSIBLE";

/** Operations the harness knows to be irreversible; any other name is accepted as client-marked. */
export const IRREVERSIBLE_OPERATIONS = {
  "fus-auth-key-lock": "lock the FUS customer authentication key (AN5185: cannot be changed afterwards)",
  "rdp-level-2": "set readout protection level 2 (permanent: debug and bootloader disabled for good)",
  "option-bytes-brick": "write option bytes that keep the chip from booting from any source",
} as const;

export type KnownIrreversibleOperation = keyof typeof IRREVERSIBLE_OPERATIONS;
/** A known operation, or a client's own name for something it marks irreversible. */
export type IrreversibleOperation = KnownIrreversibleOperation | (string & {});

/** What the interlock needs of a board (harness/rig/board.ts's Board fits). */
export interface InterlockBoard {
  readonly id: string;
  readonly emulated: boolean;
  readonly capabilities: ReadonlySet<string>;
}

export type RefusalReason = "not-sacrificial" | "no-run-flag";

/** An irreversible operation refused before anything was sent. Not an infrastructure failure: a safety stop. */
export class IrreversibleOperationRefused extends HilError {
  static override readonly category: ErrorCategory = "usage";
  override readonly name = "IrreversibleOperationRefused";

  constructor(
    readonly boardId: string,
    readonly operation: string,
    readonly reasons: readonly RefusalReason[],
  ) {
    super(refusalMessage(boardId, operation, reasons));
  }
}

/** True when the run allows irreversible operations: HIL_ALLOW_IRREVERSIBLE is 1, true or yes. */
export function runAllowsIrreversible(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes)$/i.test(env[ALLOW_IRREVERSIBLE_ENV]?.trim() ?? "");
}

/** Why `operation` may not run on `board` now; empty when it may. */
export function refusalReasons(board: InterlockBoard, env: NodeJS.ProcessEnv = process.env): RefusalReason[] {
  if (board.emulated) return [];
  const reasons: RefusalReason[] = [];
  if (!board.capabilities.has("sacrificial")) reasons.push("not-sacrificial");
  if (!runAllowsIrreversible(env)) reasons.push("no-run-flag");
  return reasons;
}

/**
 * The refusal message for `operation` on `board`, or undefined when it is allowed. For
 * suites that skip with the reason instead of failing: `if (why) this.skip()`.
 */
export function irreversibleRefusal(
  board: InterlockBoard,
  operation: IrreversibleOperation,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const reasons = refusalReasons(board, env);
  return reasons.length === 0 ? undefined : refusalMessage(board.id, operation, reasons);
}

/**
 * Throws {@link IrreversibleOperationRefused} unless `operation` may run on `board`.
 * Call it before the first byte of the operation is sent.
 */
export function assertIrreversibleAllowed(
  board: InterlockBoard,
  operation: IrreversibleOperation,
  env: NodeJS.ProcessEnv = process.env,
): void {
  const reasons = refusalReasons(board, env);
  if (reasons.length > 0) throw new IrreversibleOperationRefused(board.id, operation, reasons);
}

/** Checks the interlock, then runs `action`; `action` is never started when refused. */
export async function withIrreversible<T>(
  board: InterlockBoard,
  operation: IrreversibleOperation,
  action: () => Promise<T>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> {
  assertIrreversibleAllowed(board, operation, env);
  return action();
}

/**
 * A guard for clients (which do not import the rig): call it with the operation's name
 * before sending; it throws the refusal. The environment is read at each call.
 */
export function irreversibleGuard(
  board: InterlockBoard,
  env: NodeJS.ProcessEnv = process.env,
): (operation: IrreversibleOperation) => void {
  return (operation) => assertIrreversibleAllowed(board, operation, env);
}

function refusalMessage(boardId: string, operation: string, reasons: readonly RefusalReason[]): string {
  const what = (IRREVERSIBLE_OPERATIONS as Record<string, string>)[operation];
  const why = reasons.map((r) =>
    r === "not-sacrificial"
      ? "the rig file does not list the board as sacrificial (capabilities: [..., sacrificial])"
      : `the run was not started with --allow-irreversible (${ALLOW_IRREVERSIBLE_ENV}=1)`,
  );
  return (
    `refused irreversible operation '${operation}'${what ? ` (${what})` : ""} on lab board ${boardId}: ` +
    `${why.join(", and ")}. Nothing was sent to the board.`
  );
}
