/**
 * An in-memory serial line: what the host end writes, the device end receives, in order
 * and without loss, and the other way round. Emulators hold the device end; closing
 * either end (a power cut, a host giving up) closes both, like unplugging a USB-serial
 * adapter.
 */
import type { DeviceByteStream, EventedByteStream, ReadOptions, SerialSignals } from "./byte-stream.js";
import { type Clock, WallClock } from "./clock.js";
import { StreamClosedError } from "./errors.js";
import { Listeners, RxQueue } from "./rx-queue.js";

export interface BytePairOptions {
  /** Times reads out; default a WallClock. Emulated rigs pass their virtual clock. */
  clock?: Clock;
  /** Prefix of both ends' names (default "pair"): "<name>:host", "<name>:device". */
  name?: string;
}

export interface BytePair {
  host: HostEnd;
  device: DeviceEnd;
}

export function createBytePair(opts: BytePairOptions = {}): BytePair {
  const clock = opts.clock ?? new WallClock();
  const name = opts.name ?? "pair";
  const line = new Line(new RxQueue(`${name}:host`, clock), new RxQueue(`${name}:device`, clock));
  return {
    host: new HostEnd(line, line.hostRx, line.deviceRx),
    device: new DeviceEnd(line, line.deviceRx, line.hostRx),
  };
}

type Signals = Readonly<Required<SerialSignals>>;

/** What both ends share: the two receive queues and the modem lines. */
class Line {
  signals: Signals = { dtr: true, rts: true };
  readonly signalListeners = new Listeners<Signals>();

  constructor(
    readonly hostRx: RxQueue,
    readonly deviceRx: RxQueue,
  ) {}

  /** The closing end sees a local close, the other a disconnect. */
  close(closer: RxQueue): void {
    const other = closer === this.hostRx ? this.deviceRx : this.hostRx;
    closer.close(new StreamClosedError(closer.name, { reason: "closed", disconnected: false }));
    other.close(
      new StreamClosedError(other.name, { reason: `peer ${closer.name} closed`, disconnected: true }),
    );
  }
}

class PairEnd implements EventedByteStream {
  constructor(
    protected readonly line: Line,
    protected readonly rx: RxQueue,
    private readonly peer: RxQueue,
  ) {}

  get name(): string {
    return this.rx.name;
  }

  get closed(): boolean {
    return this.rx.closed !== undefined;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.rx.closed) throw this.rx.closed;
    this.peer.push(bytes);
  }

  read(n: number, opts: ReadOptions): Promise<Uint8Array> {
    return this.rx.read(n, opts.timeoutMs);
  }

  readAvailable(): Uint8Array {
    return this.rx.drain();
  }

  async flush(): Promise<void> {
    this.rx.clear();
  }

  async close(): Promise<void> {
    this.line.close(this.rx);
  }

  onClose(listener: (reason: StreamClosedError) => void): () => void {
    return this.rx.onClose(listener);
  }

  onData(listener: (bytes: Uint8Array) => void): () => void {
    return this.rx.onData(listener);
  }
}

/** The host end: what a client gets. It drives DTR/RTS. */
export class HostEnd extends PairEnd {
  async setSignals(change: SerialSignals): Promise<void> {
    if (this.rx.closed) throw this.rx.closed;
    const old = this.line.signals;
    const next = { dtr: change.dtr ?? old.dtr, rts: change.rts ?? old.rts };
    if (next.dtr === old.dtr && next.rts === old.rts) return;
    this.line.signals = next;
    // Synchronous, like a wire: when setSignals resolves the emulator has seen the edge.
    this.line.signalListeners.emit(next);
  }
}

/** The emulator's end: also sees the host's DTR/RTS (wired to BOOT0/NRST on many boards). */
export class DeviceEnd extends PairEnd implements DeviceByteStream {
  get signals(): Signals {
    return this.line.signals;
  }

  /** Called on every change of DTR or RTS, with both lines' new state. */
  onSignals(listener: (signals: Signals) => void): () => void {
    return this.line.signalListeners.add(listener);
  }
}
