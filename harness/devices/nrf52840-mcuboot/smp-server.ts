import {
  decodeMessage,
  duplicateKey,
  encodeMessage,
  encodeSerialFrame,
  imgErrToV1,
  MgmtErr,
  osErrToV1,
  responseOp,
  SerialFrameDecoder,
  type SmpBody,
  SmpCborError,
  SmpGroup,
  type SmpMessage,
  SmpOp,
} from "../../protocol/smp/index.js";
import type { DeviceByteStream } from "../../transport/byte-stream.js";
import type { MisbehavingSmp } from "./misbehaving-smp.js";

/** What a command handler answers: a body, a group error (v2 `err`), or an SMP-level rc. */
export type SmpReply = { body: SmpBody } | { groupRc: number } | { rc: number };

export type SmpHandler = (req: SmpMessage) => Promise<SmpReply>;

/**
 * Whose server: Zephyr's (ver min(req, 1), success without rc, v2 group errors) or MCUboot
 * serial recovery's (request header reused so ver is echoed, rc always present, never `err`).
 */
export type SmpFlavour = "zephyr" | "mcuboot";

/**
 * Zephyr's SMP server on the console UART: reassembles frames (bad ones vanish without an
 * answer), runs one request at a time, and answers with the request's group, id and seq,
 * op + 1 and ver min(req, 1), bodies in zcbor's indefinite-length form. Group errors take
 * the v2 `{"err": {group, rc}}` form for v2 requests and the translated `{"rc"}` for v1.
 */
export class SmpSerialServer {
  readonly decoder: SerialFrameDecoder;
  #queue: Promise<void> = Promise.resolve();
  #unsubscribe: (() => void) | undefined;

  constructor(
    private readonly stream: DeviceByteStream,
    private readonly handlers: ReadonlyMap<string, SmpHandler>,
    maxPacket: number,
    private readonly onFailure: (e: unknown) => void,
    private readonly flavour: SmpFlavour = "zephyr",
    /** Called per complete frame; false drops it, as a corrupted frame would be. */
    private readonly admit: () => boolean = () => true,
    /** The `misbehave` personality's reply path, when the board has it. */
    private readonly misbehave?: MisbehavingSmp,
  ) {
    this.decoder = new SerialFrameDecoder({ maxPacket });
  }

  start(): void {
    // Bytes that arrived while the core was off or booting were never received.
    this.stream.readAvailable();
    this.#unsubscribe = this.stream.onData((bytes) => {
      for (const packet of this.decoder.push(bytes)) {
        if (!this.admit()) continue;
        this.#queue = this.#queue.then(() => this.#handle(packet)).catch(this.onFailure);
      }
    });
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.decoder.reset();
    this.#queue = Promise.resolve();
  }

  async #handle(packet: Parameters<typeof decodeMessage>[0]): Promise<void> {
    const h = packet.header;
    if (h.op !== SmpOp.READ && h.op !== SmpOp.WRITE) return;
    const mcuboot = this.flavour === "mcuboot";
    const version = mcuboot ? h.version : Math.min(h.version, 1);
    const respond = (body: SmpBody) =>
      this.#send({
        header: { op: responseOp(h.op), version, flags: 0, group: h.group, seq: h.seq, id: h.id },
        body,
      });
    if (h.version > 1 && !mcuboot) return respond({ rc: MgmtErr.UNSUPPORTED_TOO_NEW });
    // zcbor_map_decode_bulk: a repeated key is EINVAL, whatever the command.
    if (duplicateKey(packet.body) !== undefined) return respond({ rc: MgmtErr.EINVAL });
    let req: SmpMessage;
    try {
      req = decodeMessage(packet);
    } catch (e) {
      if (e instanceof SmpCborError) return respond({ rc: MgmtErr.EINVAL });
      throw e;
    }
    const handler = this.handlers.get(`${h.group}:${h.id}:${h.op}`);
    if (!handler) return respond({ rc: MgmtErr.ENOTSUP });
    const reply = await handler(req);
    if ("body" in reply) return respond(mcuboot ? { rc: 0, ...reply.body } : reply.body);
    if ("rc" in reply) return respond({ rc: reply.rc });
    if (mcuboot) return respond({ rc: reply.groupRc });
    if (version === 1) return respond({ err: { group: h.group, rc: reply.groupRc } });
    return respond({ rc: v1Rc(h.group, reply.groupRc) });
  }

  async #send(m: SmpMessage): Promise<void> {
    if (this.stream.closed) return;
    const frame = encodeSerialFrame(encodeMessage(m, { indefinite: true }));
    if (this.misbehave) return this.misbehave.send(m, frame);
    await this.stream.write(frame);
  }
}

/** A group error as Zephyr translates it for a v1 request (the group's mg_translate_error). */
function v1Rc(group: number, rc: number): number {
  if (group === SmpGroup.IMAGE) return imgErrToV1(rc);
  if (group === SmpGroup.OS) return osErrToV1(rc);
  return rc;
}

export const handlerKey = (group: number, id: number, op: number): string => `${group}:${id}:${op}`;
