/**
 * Failures of the lab, not of the firmware: board not found, lease timeout, power backend
 * error, pty or USB/IP failure. Reports keep them in their own category, so a dead hub
 * never reads as a firmware regression. The class lives in the error tree's root.
 */
export { InfrastructureError } from "../seams/errors.js";

/**
 * The scenario cannot run here (unattended run needs a person, capability absent): skip with
 * this reason. Control flow, not a failure: it has no category of its own.
 */
export class SkipScenario extends Error {
  override name = "SkipScenario";
}
