/**
 * Serial relay boards: one channel as an {@link OutputLine}. The port is found by identity
 * and opened for each switch (see serial-device.ts).
 *
 * Protocols:
 * - `lcus`: the CH340 "LCUS-n" modules. 9600 baud, 4-byte frames `A0 <channel> <00 off|01 on>
 *   <sum of the three bytes, mod 256>`, channels from 1. They answer nothing and cannot be
 *   read back: `get()` is undefined.
 * - `numato`: Numato Lab USB relay modules. ASCII `relay on|off|read <n>` + CR; the module
 *   echoes the command, answers (`on`/`off` for read) and prints a `>` prompt. Channels 0-9
 *   then A-V. Read back with `relay read`.
 * - `custom`: frames from the rig file, hex (`A0 {channel} 01 {sum}`) or text (`ON{channel}\r\n`)
 *   with an optional state query and the replies meaning on and off.
 *
 * The relay is "asserted" when its coil is energized, unless `normallyClosed` (the load is
 * wired through the normally-closed contact): then asserted = coil released.
 */
import type { ByteStream } from "../../transport/byte-stream.js";
import type { Clock } from "../../transport/clock.js";
import { InfrastructureError } from "../errors.js";
import type { OutputLine } from "./lines.js";
import { drain, readLine, type SerialDeviceSpec, withSerialDevice } from "./serial-device.js";

export interface RelayCustomFrames {
  readonly encoding: "hex" | "text";
  readonly on: string;
  readonly off: string;
  readonly query?: string | undefined;
  readonly replyOn?: string | undefined;
  readonly replyOff?: string | undefined;
}

export interface RelaySpec extends SerialDeviceSpec {
  readonly protocol: "lcus" | "numato" | "custom";
  readonly channel: number;
  readonly normallyClosed?: boolean | undefined;
  readonly custom?: RelayCustomFrames | undefined;
}

export const RELAY_DEFAULT_BAUD = { lcus: 9600, numato: 19200, custom: 9600 } as const;

/** The LCUS frame that switches `channel` (from 1). */
export function lcusFrame(channel: number, energize: boolean): Uint8Array {
  const bytes = [0xa0, channel & 0xff, energize ? 1 : 0];
  return Uint8Array.of(...bytes, bytes.reduce((a, b) => a + b, 0) & 0xff);
}

/** Numato channel names: 0-9, then A-V for 10-31. */
export function numatoChannel(channel: number): string {
  if (channel < 10) return String(channel);
  if (channel < 32) return String.fromCharCode(0x41 + channel - 10);
  throw new RangeError(`numato relay channel ${channel} is above 31`);
}

/**
 * A custom frame with `{channel}` filled in. Hex: bytes separated by spaces, `{channel}` one
 * byte, `{sum}` the sum of the bytes before it mod 256. Text: `{channel}` in decimal,
 * escapes \r \n \t \\ and \xNN.
 */
export function customFrame(template: string, encoding: "hex" | "text", channel: number): Uint8Array {
  if (encoding === "text") {
    const text = template
      .replaceAll("{channel}", String(channel))
      .replace(/\\(x[0-9a-fA-F]{2}|[rnt\\])/g, (_, e: string) =>
        e[0] === "x"
          ? String.fromCharCode(Number.parseInt(e.slice(1), 16))
          : ({ r: "\r", n: "\n", t: "\t", "\\": "\\" } as Record<string, string>)[e]!,
      );
    return Uint8Array.from(Buffer.from(text, "latin1"));
  }
  const out: number[] = [];
  for (const token of template.trim().split(/\s+/)) {
    if (token === "{channel}") out.push(channel & 0xff);
    else if (token === "{sum}") out.push(out.reduce((a, b) => a + b, 0) & 0xff);
    else if (/^[0-9a-fA-F]{2}$/.test(token)) out.push(Number.parseInt(token, 16));
    else
      throw new Error(
        `relay frame ${JSON.stringify(template)}: '${token}' is not a hex byte, {channel} or {sum}`,
      );
  }
  return Uint8Array.from(out);
}

export class RelayLine implements OutputLine {
  readonly backend = "relay";

  constructor(
    private readonly spec: RelaySpec,
    private readonly owner: string,
    private readonly clock: Clock,
    private readonly commandMs: number,
    private readonly env?: NodeJS.ProcessEnv,
  ) {
    if (spec.protocol === "custom" && !spec.custom)
      throw new Error(`${owner}: relay protocol custom needs custom frames`);
  }

  async set(asserted: boolean): Promise<void> {
    const energize = asserted !== (this.spec.normallyClosed ?? false);
    await this.#exchange(async (s) => {
      switch (this.spec.protocol) {
        case "lcus":
          await s.write(lcusFrame(this.spec.channel, energize));
          return;
        case "numato":
          await this.#numato(s, `relay ${energize ? "on" : "off"} ${numatoChannel(this.spec.channel)}`);
          return;
        case "custom": {
          const c = this.spec.custom!;
          await s.write(customFrame(energize ? c.on : c.off, c.encoding, this.spec.channel));
          return;
        }
      }
    });
    // Read back where the board can: a relay that did not switch must not pass silently.
    const now = await this.get();
    if (now !== undefined && now !== asserted)
      throw new InfrastructureError(
        `${this.owner}: relay channel ${this.spec.channel} reads back ${energize ? "off" : "on"} after switching it ${energize ? "on" : "off"}`,
      );
  }

  async get(): Promise<boolean | undefined> {
    const energized = await this.#energized();
    return energized === undefined ? undefined : energized !== (this.spec.normallyClosed ?? false);
  }

  async #energized(): Promise<boolean | undefined> {
    if (this.spec.protocol === "lcus") return undefined;
    if (this.spec.protocol === "custom" && !this.spec.custom?.query) return undefined;
    return this.#exchange(async (s) => {
      if (this.spec.protocol === "numato") {
        const reply = await this.#numato(s, `relay read ${numatoChannel(this.spec.channel)}`);
        const m = /\b(on|off)\b/i.exec(reply);
        if (!m) throw new InfrastructureError(`${this.owner}: relay read answered ${JSON.stringify(reply)}`);
        return m[1]!.toLowerCase() === "on";
      }
      const c = this.spec.custom!;
      await s.write(customFrame(c.query!, c.encoding, this.spec.channel));
      const on = customFrame(c.replyOn!, c.encoding, this.spec.channel);
      const off = customFrame(c.replyOff!, c.encoding, this.spec.channel);
      let reply: string;
      if (c.encoding === "hex") {
        const bytes = await s.read(on.length, { timeoutMs: this.commandMs }).catch(() => {
          throw new InfrastructureError(
            `${this.owner}: no answer to the relay state query within ${this.commandMs} ms`,
          );
        });
        reply = Buffer.from(bytes).toString("latin1");
      } else {
        reply = await readLine(s, this.clock, this.commandMs, "the relay state query");
      }
      const same = (frame: Uint8Array) => Buffer.from(frame).toString("latin1").trim() === reply.trim();
      if (same(on)) return true;
      if (same(off)) return false;
      throw new InfrastructureError(
        `${this.owner}: relay state query answered ${JSON.stringify(reply)}, expected replyOn or replyOff`,
      );
    });
  }

  /** Sends a Numato command; returns what came between its echo and the `>` prompt. */
  async #numato(s: ByteStream, command: string): Promise<string> {
    await drain(s, 0);
    await s.write(Buffer.from(`${command}\r`, "latin1"));
    const text = await readLine(s, this.clock, this.commandMs, `'${command}'`, ">");
    const afterEcho = text.includes(command) ? text.slice(text.indexOf(command) + command.length) : text;
    return afterEcho.trim();
  }

  #exchange<T>(exchange: (s: ByteStream) => Promise<T>): Promise<T> {
    return withSerialDevice(
      this.spec,
      RELAY_DEFAULT_BAUD[this.spec.protocol],
      {
        owner: this.owner,
        clock: this.clock,
        commandMs: this.commandMs,
        ...(this.env ? { env: this.env } : {}),
      },
      exchange,
    );
  }
}
