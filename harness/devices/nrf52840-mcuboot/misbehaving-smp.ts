/**
 * The `misbehave` personality at the SMP server's reply boundary: the frame bytes go
 * through the shared serial adapter (short, long, corrupt, duplicated, reordered frames,
 * delays, silence, a reset mid-frame), and its "status" and "garbage" mischief become SMP
 * ones: a well-framed packet whose header lies (seq, op, group, id, length), whose rc is an
 * error, or whose body is garbage CBOR.
 */
import { encodeMessage, encodeSerialFrame, type SmpMessage } from "../../protocol/smp/index.js";
import type { Random } from "../../sim/random.js";
import { type MisbehaveSetting, MisbehavingWriter, Misbehaviour, type Mischief } from "../misbehave.js";

export interface MisbehavingSmpHost {
  write(bytes: Uint8Array): Promise<void>;
  sleep(ms: number): Promise<void>;
  reset(): void;
  log(detail: string): void;
}

/** What the SMP server writes its replies through. */
export class MisbehavingSmp {
  readonly #writer: MisbehavingWriter;
  /** The reply being written, for the SMP-level mischief. */
  #message: SmpMessage | undefined;

  constructor(setting: MisbehaveSetting, host: MisbehavingSmpHost) {
    const engine = new Misbehaviour(setting, "smp");
    const allowed: readonly Mischief[] = [
      "short",
      "long",
      "corrupt",
      "status",
      "stale",
      "duplicate",
      "reorder",
      "garbage",
      "delay",
      "silence",
      "reset",
    ];
    this.#writer = new MisbehavingWriter(
      engine,
      {
        write: (b) => host.write(b),
        sleep: (ms) => host.sleep(ms),
        reset: () => host.reset(),
        status: (_bytes, random) => (this.#message ? lyingFrame(this.#message, random) : undefined),
        log: (d) => host.log(d),
      },
      allowed,
    );
  }

  async send(m: SmpMessage, frame: Uint8Array): Promise<void> {
    this.#message = m;
    await this.#writer.write(frame);
  }
}

/** A correctly framed reply that lies: wrong header field, an error rc, or garbage CBOR. */
function lyingFrame(m: SmpMessage, random: Random): Uint8Array {
  const h = m.header;
  switch (random.below(6)) {
    case 0:
      return frameOf({ ...m, header: { ...h, seq: (h.seq + 1 + random.below(255)) & 0xff } });
    case 1:
      return frameOf({ ...m, header: { ...h, op: (h.op ^ 1) as typeof h.op } });
    case 2:
      return frameOf({ ...m, header: { ...h, group: (h.group + 1) & 0xffff, id: (h.id + 1) & 0xff } });
    case 3:
      return frameOf({ ...m, body: { rc: 1 + random.below(12) } });
    case 4: {
      // Header length field off by some bytes.
      const packet = encodeMessage(m, { indefinite: true });
      const len = ((packet[2]! << 8) | packet[3]!) + 1 + random.below(8);
      packet[2] = (len >> 8) & 0xff;
      packet[3] = len & 0xff;
      return encodeSerialFrame(packet);
    }
    default: {
      // Garbage CBOR of the length the header says.
      const body = Uint8Array.from({ length: 1 + random.below(40) }, () => random.byte());
      const packet = encodeMessage({ ...m, body: {} }, { indefinite: true }).subarray(0, 8);
      const out = new Uint8Array(8 + body.length);
      out.set(packet);
      out[2] = (body.length >> 8) & 0xff;
      out[3] = body.length & 0xff;
      out.set(body, 8);
      return encodeSerialFrame(out);
    }
  }
}

function frameOf(m: SmpMessage): Uint8Array {
  return encodeSerialFrame(encodeMessage(m, { indefinite: true }));
}
