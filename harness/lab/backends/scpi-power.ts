/**
 * `scpi` power backend: one output of a bench power supply speaking SCPI on a serial port
 * (USB CDC or RS-232), found by identity at every use, or on its LXI raw socket over the
 * network (`tcp: "psu3:5025"`, a connection per use). Commands are the SCPI-99 / IEEE 488.2
 * common set most supplies accept: `INST:NSEL <n>` selects the output, `VOLT <V>` and
 * `CURR <A>` set it up (when the rig file gives values), `OUTP ON|OFF` switches it,
 * `OUTP?` reads it back (`1`/`0` or `ON`/`OFF`), `SYST:ERR?` reports a refused command
 * (`0,"No error"` when all went well), `*IDN?` names the instrument (health check).
 * Lines end with LF.
 *
 * Every switch is read back: a supply that did not switch is an infrastructure error, so a
 * "power cut" that never happened cannot pass a power-interruption test.
 */

import type { PowerControl, PowerState } from "../../seams/controls.js";
import type { ByteStream } from "../../transport/byte-stream.js";
import type { Clock } from "../../transport/clock.js";
import { InfrastructureError } from "../errors.js";
import { cycleOffOn } from "./power-cycle.js";
import { drain, readLine, type SerialDeviceSpec, withSerialDevice } from "./serial-device.js";
import { withTcpDevice } from "./tcp-device.js";

export interface ScpiPowerSpec extends SerialDeviceSpec {
  /** "host:port" of the supply's LXI raw SCPI socket (5025), instead of a serial port. */
  readonly tcp?: string | undefined;
  readonly channel: number;
  readonly voltage?: number | undefined;
  readonly currentLimit?: number | undefined;
}

export const SCPI_DEFAULT_BAUD = 9600;

export class ScpiPower implements PowerControl {
  readonly backend = "scpi";
  #configured = false;

  constructor(
    private readonly spec: ScpiPowerSpec,
    private readonly owner: string,
    private readonly clock: Clock,
    private readonly timeouts: { commandMs: number; powerOffMs: number },
    private readonly env?: NodeJS.ProcessEnv,
  ) {}

  on(): Promise<void> {
    return this.#switch(true);
  }

  off(): Promise<void> {
    return this.#switch(false);
  }

  cycle(offMs = this.timeouts.powerOffMs): Promise<void> {
    return cycleOffOn(this, this.clock, offMs);
  }

  async state(): Promise<PowerState> {
    return this.#session(async (io) => {
      await io.select();
      return (await io.output()) ? "on" : "off";
    });
  }

  /** The instrument's `*IDN?` answer (manufacturer,model,serial,firmware). */
  identify(): Promise<string> {
    return this.#session((io) => io.query("*IDN?"));
  }

  #switch(on: boolean): Promise<void> {
    return this.#session(async (io) => {
      await io.select();
      if (on && !this.#configured) {
        if (this.spec.voltage !== undefined) await io.command(`VOLT ${this.spec.voltage}`);
        if (this.spec.currentLimit !== undefined) await io.command(`CURR ${this.spec.currentLimit}`);
        this.#configured = true;
      }
      await io.command(`OUTP ${on ? "ON" : "OFF"}`);
      const now = await io.output();
      if (now !== on)
        throw new InfrastructureError(
          `${this.owner}: output ${this.spec.channel} reads back ${now ? "ON" : "OFF"} after OUTP ${on ? "ON" : "OFF"}`,
        );
    });
  }

  #session<T>(work: (io: ScpiSession) => Promise<T>): Promise<T> {
    const session = async (stream: ByteStream) => {
      await drain(stream, 0);
      return work(
        new ScpiSession(stream, this.clock, this.timeouts.commandMs, this.owner, this.spec.channel),
      );
    };
    if (this.spec.tcp !== undefined)
      return withTcpDevice(
        this.spec.tcp,
        { owner: this.owner, clock: this.clock, commandMs: this.timeouts.commandMs },
        session,
      );
    return withSerialDevice(
      this.spec,
      SCPI_DEFAULT_BAUD,
      {
        owner: this.owner,
        clock: this.clock,
        commandMs: this.timeouts.commandMs,
        ...(this.env ? { env: this.env } : {}),
      },
      session,
    );
  }
}

class ScpiSession {
  constructor(
    private readonly stream: ByteStream,
    private readonly clock: Clock,
    private readonly commandMs: number,
    private readonly owner: string,
    private readonly channel: number,
  ) {}

  async query(text: string): Promise<string> {
    await this.stream.write(Buffer.from(`${text}\n`, "latin1"));
    return (await readLine(this.stream, this.clock, this.commandMs, text)).trim();
  }

  /** Sends a setting, then asks SYST:ERR? so a refused command is caught where it happened. */
  async command(text: string): Promise<void> {
    await this.stream.write(Buffer.from(`${text}\n`, "latin1"));
    const error = await this.query("SYST:ERR?");
    if (!/^[+]?0\s*,/.test(error))
      throw new InfrastructureError(`${this.owner}: the supply refused '${text}': ${error}`);
  }

  select(): Promise<void> {
    return this.command(`INST:NSEL ${this.channel}`);
  }

  async output(): Promise<boolean> {
    const answer = (await this.query("OUTP?")).toUpperCase();
    if (answer === "1" || answer === "ON") return true;
    if (answer === "0" || answer === "OFF") return false;
    throw new InfrastructureError(
      `${this.owner}: OUTP? answered ${JSON.stringify(answer)}, expected 1/0 or ON/OFF`,
    );
  }
}
