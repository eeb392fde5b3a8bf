/**
 * Failures of the lab, not of the firmware: board not found, lease timeout, power backend
 * error, pty or USB/IP failure. Reports keep them in their own category, so a dead hub
 * never reads as a firmware regression.
 */
export class InfrastructureError extends Error {
  override name = "InfrastructureError";
  readonly category = "infrastructure" as const;
}

/** The scenario cannot run here (unattended run needs a person, capability absent): skip with this reason. */
export class SkipScenario extends Error {
  override name = "SkipScenario";
}
