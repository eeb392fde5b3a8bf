/**
 * The phases of a FUS install as the host sees them: the FW_UPGRADE poll cut at the system
 * resets FUS makes (AN5185 §2.1.1, §3.1: verify → reset → [delete the old stack → reset] →
 * install → reset → the stack runs or FUS is idle). Each stretch is a timed client operation
 * named here; only what a host observes decides the name: how many resets it has seen, what
 * answered after the last one, and what it knew before the command (the image's footer, and
 * whether the device information table listed a stack). FW_DELETE (§2.2.1: reset → erase →
 * reset → FUS idle) and START_WS (§2.3: reset → the stack runs) are cut the same way.
 */
import type { ImageKind } from "../../protocol/fus/index.js";
import { count } from "../operation.js";

export interface InstallPlan {
  /** The image's kind, from its footer (undefined when the footer does not parse). */
  readonly kind: ImageKind | undefined;
  /** The image's 4 KB sectors, from its footer. */
  readonly sectors: number | undefined;
  /** Whether a stack was installed before the command (device information table), when read. */
  readonly stackInstalled: boolean | undefined;
  /** A FUS image bigger than the installed FUS with a stack below it: FUS moves the stack down first (§3.2). */
  readonly movesStack?: boolean | undefined;
}

/** Resets FUS makes for the install: 2, or 3 when a stack replaces an installed one; undefined when unknown. */
export function expectedResets(plan: InstallPlan): number | undefined {
  if (plan.kind === "fus" || plan.kind === "safeboot") return 2;
  if (plan.kind === "wireless-stack" && plan.stackInstalled !== undefined) return plan.stackInstalled ? 3 : 2;
  return undefined;
}

/**
 * The stretch that ended with the host back after reset number `reset` (1-based).
 * `stackAnswered`: the reset was noticed together with the stack's first answer (over USART
 * the resync before a GET_STATE shows the reset), so the stretch holds the stack's start too.
 */
export function phaseBeforeReset(plan: InstallPlan, reset: number, stackAnswered: boolean): string {
  if (reset === 1) return "FUS install: verify and first reset";
  const resets = expectedResets(plan);
  if (resets === 3 && reset === 2) return "FUS install: delete old stack";
  if (resets === reset && plan.sectors !== undefined) {
    const sectors = count(plan.sectors, "sector");
    if (plan.kind === "fus" && plan.movesStack === false) return `FUS upgrade: program ${sectors}`;
    if (plan.kind === "fus" && plan.movesStack) return `FUS upgrade: move the stack and program ${sectors}`;
    if (plan.kind === "wireless-stack")
      return `FUS install: program ${sectors}${stackAnswered ? " and stack start" : ""}`;
  }
  return `FUS install: after reset ${reset}`;
}

/** The last stretch: from the host back after the last reset to the answer that ends the install. */
export function phaseAfterLastReset(plan: InstallPlan, resets: number, stackRuns: boolean): string {
  if (resets === 0) return "FUS install: without a reset";
  if (!stackRuns) return "FUS install: back to idle";
  // After a FUS upgrade the stack that was there starts again; only a new stack starts slow.
  return plan.kind === "wireless-stack" ? "FUS stack start" : "FUS install: stack runs again";
}

/** How a phased poll names its stretches (FusClient's FW_UPGRADE, FW_DELETE and START_WS polls). */
export interface PhaseNames {
  beforeReset(reset: number, stackAnswered: boolean): string;
  afterLastReset(resets: number, stackRuns: boolean): string;
}

export function installPhases(plan: InstallPlan): PhaseNames {
  return {
    beforeReset: (reset, stackAnswered) => phaseBeforeReset(plan, reset, stackAnswered),
    afterLastReset: (resets, stackRuns) => phaseAfterLastReset(plan, resets, stackRuns),
  };
}

/**
 * FW_DELETE and START_WS: FUS prepares and resets (both "FUS prepare and reset" in the
 * timing, one figure), FW_DELETE then erases the stack and resets again.
 */
export function commandPhases(command: "FW_DELETE" | "START_WS"): PhaseNames {
  const name = `FUS_${command}`;
  return {
    beforeReset: (reset) => {
      if (reset === 1) return `${name}: prepare and ${command === "FW_DELETE" ? "first " : ""}reset`;
      if (command === "FW_DELETE" && reset === 2) return `${name}: erase the stack`;
      return `${name}: after reset ${reset}`;
    },
    afterLastReset: (resets, stackRuns) => {
      if (resets === 0) return `${name}: without a reset`;
      return stackRuns ? `${name}: stack answers` : `${name}: back to idle`;
    },
  };
}
