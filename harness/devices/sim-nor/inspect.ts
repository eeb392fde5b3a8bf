import type { Flash } from "../../sim/flash.js";
import { InspectBase } from "../inspect.js";
import type { SimNorDevice, SimNorState } from "./device.js";

/**
 * The emulated sim-nor board seen from inside. The board has no host protocol: its updater
 * is driven here (stage, requestInstall), as its firmware's own update task would.
 */
export class SimNorInspect extends InspectBase<SimNorDevice> {
  get family(): "sim-nor" {
    return this.dev.family;
  }

  get flash(): Flash {
    return this.dev.flash;
  }

  get state(): SimNorState {
    return this.dev.state;
  }

  get runningVersion(): number | undefined {
    return this.dev.runningVersion;
  }

  slotAddress(slot: "primary" | "secondary"): number {
    return this.dev.slotAddress(slot);
  }

  /** `length` bytes from the start of a slot. */
  slot(which: "primary" | "secondary", length: number): Uint8Array {
    return this.dev.flash.peek(this.dev.slotAddress(which), length);
  }

  stage(image: Uint8Array): Promise<void> {
    return this.dev.stage(image);
  }

  requestInstall(): Promise<void> {
    return this.dev.requestInstall();
  }
}
