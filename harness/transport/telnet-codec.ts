/**
 * Telnet framing (RFC 854/855) as pure functions: what travels between an RFC 2217 client
 * and a port server such as ser2net. Data bytes 0xFF are doubled (IAC IAC) both ways;
 * commands are IAC <verb> <option>; subnegotiations IAC SB <option> <payload> IAC SE, with
 * 0xFF in the payload doubled too. The decoder keeps its state across chunks, since TCP
 * splits anywhere, also inside a command.
 */

export const IAC = 0xff;
export const DONT = 0xfe;
export const DO = 0xfd;
export const WONT = 0xfc;
export const WILL = 0xfb;
export const SB = 0xfa;
export const SE = 0xf0;

/** Options the client talks about (RFC 856 BINARY, RFC 857 ECHO, RFC 858 SGA, RFC 2217 COM-PORT). */
export const OPT_BINARY = 0;
export const OPT_ECHO = 1;
export const OPT_SGA = 3;
export const OPT_COM_PORT = 44;

export type NegotiationVerb = typeof WILL | typeof WONT | typeof DO | typeof DONT;

export type TelnetEvent =
  | { kind: "data"; bytes: Uint8Array }
  | { kind: "negotiation"; verb: NegotiationVerb; option: number }
  | { kind: "subnegotiation"; option: number; payload: Uint8Array }
  /** Any other two-byte command (NOP, AYT, GA, ...): passed on, carries no data. */
  | { kind: "command"; code: number };

/** `data` with every 0xFF doubled; the same array when there is none (the common case). */
export function escapeIac(data: Uint8Array): Uint8Array {
  let count = 0;
  for (let i = data.indexOf(IAC); i !== -1; i = data.indexOf(IAC, i + 1)) count++;
  if (count === 0) return data;
  const out = new Uint8Array(data.length + count);
  let o = 0;
  for (const byte of data) {
    out[o++] = byte;
    if (byte === IAC) out[o++] = IAC;
  }
  return out;
}

export function encodeNegotiation(verb: NegotiationVerb, option: number): Uint8Array {
  checkByte(option, "option");
  return Uint8Array.of(IAC, verb, option);
}

/** IAC SB <option> <payload, IAC doubled> IAC SE. */
export function encodeSubnegotiation(option: number, payload: Uint8Array): Uint8Array {
  checkByte(option, "option");
  const body = escapeIac(payload);
  const out = new Uint8Array(body.length + 5);
  out.set([IAC, SB, option]);
  out.set(body, 3);
  out.set([IAC, SE], 3 + body.length);
  return out;
}

function checkByte(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff)
    throw new RangeError(`telnet ${what} must be a byte (0..255), got ${value}`);
}

type State = "data" | "iac" | "verb" | "sb-option" | "sb" | "sb-iac";

/** Splits a byte stream from the far end into data and telnet events, across chunk boundaries. */
export class TelnetDecoder {
  #state: State = "data";
  #verb: NegotiationVerb = WILL;
  #option = 0;
  #payload: number[] = [];

  /** Events of `chunk` in order; data runs come out as views or copies of `chunk`. */
  push(chunk: Uint8Array): TelnetEvent[] {
    const events: TelnetEvent[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.#state === "data") {
        // The fast path: a run of plain data up to the next IAC.
        const at = chunk.indexOf(IAC, i);
        const end = at === -1 ? chunk.length : at;
        if (end > i) pushData(events, chunk.subarray(i, end));
        if (at === -1) break;
        this.#state = "iac";
        i = at + 1;
        continue;
      }
      const byte = chunk[i++]!;
      switch (this.#state) {
        case "iac":
          if (byte === IAC) {
            pushData(events, Uint8Array.of(IAC));
            this.#state = "data";
          } else if (byte === WILL || byte === WONT || byte === DO || byte === DONT) {
            this.#verb = byte;
            this.#state = "verb";
          } else if (byte === SB) this.#state = "sb-option";
          else {
            events.push({ kind: "command", code: byte });
            this.#state = "data";
          }
          break;
        case "verb":
          events.push({ kind: "negotiation", verb: this.#verb, option: byte });
          this.#state = "data";
          break;
        case "sb-option":
          this.#option = byte;
          this.#payload = [];
          this.#state = "sb";
          break;
        case "sb":
          if (byte === IAC) this.#state = "sb-iac";
          else this.#payload.push(byte);
          break;
        case "sb-iac":
          if (byte === IAC) {
            this.#payload.push(IAC);
            this.#state = "sb";
          } else if (byte === SE) {
            events.push({
              kind: "subnegotiation",
              option: this.#option,
              payload: Uint8Array.from(this.#payload),
            });
            this.#state = "data";
          } else {
            // IAC <other> inside a subnegotiation: a broken frame. Keep going as RFC 855 servers do.
            this.#state = "sb";
          }
          break;
      }
    }
    return events;
  }
}

/** Appends data, merging with a data event just before (IAC IAC inside a run). */
function pushData(events: TelnetEvent[], bytes: Uint8Array): void {
  const last = events.at(-1);
  if (last?.kind === "data") {
    const merged = new Uint8Array(last.bytes.length + bytes.length);
    merged.set(last.bytes);
    merged.set(bytes, last.bytes.length);
    last.bytes = merged;
  } else events.push({ kind: "data", bytes });
}
