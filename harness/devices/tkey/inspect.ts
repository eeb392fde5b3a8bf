import { InspectBase } from "../inspect.js";
import type { TKeyCounters, TKeyDevice } from "./device.js";
import type { LoadedApp } from "./firmware.js";
import type { TKeyIdentity } from "./options.js";
import type { TKeyProfile } from "./profiles.js";

/** An emulated TKey seen from inside: firmware state, the loaded app, its identity and wire counters. */
export class TKeyInspect extends InspectBase<TKeyDevice> {
  get family(): "tkey" {
    return this.dev.family;
  }

  get profile(): TKeyProfile {
    return this.dev.profile;
  }

  /** UDI and UDS words as provisioned. */
  get identity(): TKeyIdentity {
    return this.dev.tkeyIdentity;
  }

  get counters(): Readonly<TKeyCounters> {
    return this.dev.counters;
  }

  /** Firmware state name (the profile's names). */
  get state(): string {
    return this.dev.state;
  }

  get app(): LoadedApp | undefined {
    return this.dev.app;
  }

  get cdi(): Uint8Array | undefined {
    return this.dev.cdi;
  }
}
