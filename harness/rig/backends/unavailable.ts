import type { BootControl, PowerControl, PowerState, ResetControl } from "../controls.js";
import { InfrastructureError, SkipScenario } from "../errors.js";

/**
 * Backends the rig file may name that this build cannot drive yet (uhubctl, scpi, relay,
 * gpio: the lab-rack issue) and the `manual` backend when nobody is there to answer.
 * Every call fails with the reason, so a run says exactly what is missing instead of
 * pretending to have switched a relay.
 */
export function unavailablePower(backend: string, reason: string, asSkip = false): PowerControl {
  const fail = (): never => {
    throw asSkip ? new SkipScenario(reason) : new InfrastructureError(reason);
  };
  return {
    backend,
    on: async () => fail(),
    off: async () => fail(),
    cycle: async () => fail(),
    state: async (): Promise<PowerState> => "unknown",
  };
}

export function unavailableBoot(backend: string, reason: string): BootControl {
  const fail = async (): Promise<never> => {
    throw new InfrastructureError(reason);
  };
  return { backend, bootloader: fail, application: fail };
}

export function unavailableReset(backend: string, reason: string): ResetControl {
  return {
    backend,
    reset: async () => {
      throw new InfrastructureError(reason);
    },
  };
}
