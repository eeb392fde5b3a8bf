/**
 * UsbBus over emulated boards: lists the device object of each board's current
 * enumeration and tells waiters when one comes or goes, so `waitFor(..., { notSame })`
 * returns the fresh object after a re-enumeration, never the stale one.
 */
import type { Clock } from "../../../transport/clock.js";
import {
  type DeviceChange,
  matchesFilter,
  type UsbBus,
  type UsbDevice,
  type UsbFilter,
  type WaitForOptions,
  waitForDevice,
} from "../../../transport/usb.js";

export interface UsbAttachment {
  /** The device object of the current enumeration, if the board is on the bus. */
  current(): UsbDevice | undefined;
  onChange(listener: (change: DeviceChange) => void): () => void;
}

export class EmulatedUsbBus implements UsbBus {
  readonly #ports: UsbAttachment[];

  constructor(
    ports: readonly UsbAttachment[],
    readonly clock: Clock,
  ) {
    this.#ports = [...ports];
  }

  async list(filter?: UsbFilter): Promise<UsbDevice[]> {
    const present = this.#ports.map((p) => p.current()).filter((d): d is UsbDevice => d !== undefined);
    return filter ? present.filter((d) => matchesFilter(d, filter)) : present;
  }

  async find(filter: UsbFilter): Promise<UsbDevice | undefined> {
    return (await this.list(filter))[0];
  }

  waitFor(filter: UsbFilter, opts: WaitForOptions): Promise<UsbDevice> {
    return waitForDevice(
      {
        list: (f) => this.list(f),
        onChange: (listener) => {
          const offs = this.#ports.map((p) => p.onChange(listener));
          return () => {
            for (const off of offs) off();
          };
        },
      },
      filter,
      { ...opts, clock: opts.clock ?? this.clock },
    );
  }
}
