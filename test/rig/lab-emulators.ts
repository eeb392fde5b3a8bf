/**
 * Lab instruments emulated behind real ptys (socat, through harness/expose's servePty), so
 * the scpi and relay backends are tested through the real `serialport` binding, the real
 * identity lookup (a by-id directory with the pty's link in it) and real timing.
 *
 * - {@link ScpiSupply}: a bench supply answering the SCPI subset the backend uses, with an
 *   error queue (`SYST:ERR?`) and an option to ignore OUTP (a supply that does not switch).
 * - {@link RelayBoard}: LCUS frames (checksum checked), Numato ASCII commands (echo + `>`
 *   prompt), or a custom text set `ON n` / `OFF n` / `STATE n`.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type PtyBridge, servePty } from "../../harness/expose/uart-pty.js";
import { WallClock } from "../../harness/transport/clock.js";

const clock = new WallClock();

/** A directory standing in for /dev/serial/by-id (HIL_SERIAL_BY_ID_DIR). */
export async function makeByIdDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "hil-by-id-"));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Hooks for a describe block whose tests serve ptys through socat into a by-id stand-in
 * directory: the block skips where socat is missing (apt-get install -y socat); the
 * directory is made before and removed after.
 */
export function byIdDirHooks(): { readonly dir: string } {
  let byId: { dir: string; remove(): Promise<void> } | undefined;
  before(async function () {
    if (spawnSync("which", ["socat"]).status !== 0) this.skip();
    byId = await makeByIdDir();
  });
  after(() => byId?.remove());
  return {
    get dir() {
      if (!byId) throw new Error("by-id directory used outside the block's tests");
      return byId.dir;
    },
  };
}

abstract class PtyInstrument {
  /** Every byte the instrument received, in order. */
  readonly received: number[] = [];
  protected bridge!: PtyBridge;

  async serve(link: string): Promise<this> {
    this.bridge = await servePty(link, clock);
    this.bridge.line.onData((bytes) => {
      this.received.push(...bytes);
      this.onBytes(bytes);
    });
    return this;
  }

  protected send(text: string | Uint8Array): void {
    void this.bridge.line.write(typeof text === "string" ? Buffer.from(text, "latin1") : text);
  }

  protected abstract onBytes(bytes: Uint8Array): void;

  close(): Promise<void> {
    return this.bridge.close();
  }
}

export interface SupplyOutput {
  on: boolean;
  volt: number;
  curr: number;
}

export class ScpiSupply extends PtyInstrument {
  readonly outputs: SupplyOutput[];
  readonly commands: string[] = [];
  selected = 1;
  errors: string[] = [];
  /** OUTP commands are accepted but change nothing (a supply in remote lock-out, a broken relay). */
  ignoreOutput = false;
  #text = "";

  constructor(channels = 2) {
    super();
    this.outputs = Array.from({ length: channels }, () => ({ on: false, volt: 0, curr: 0 }));
  }

  protected onBytes(bytes: Uint8Array): void {
    this.#text += Buffer.from(bytes).toString("latin1");
    for (let i = this.#text.indexOf("\n"); i >= 0; i = this.#text.indexOf("\n")) {
      const line = this.#text.slice(0, i).trim();
      this.#text = this.#text.slice(i + 1);
      if (line) this.#command(line);
    }
  }

  #command(line: string) {
    this.commands.push(line);
    const [head = "", arg = ""] = line.split(/\s+/, 2);
    const out = this.outputs[this.selected - 1]!;
    switch (head.toUpperCase()) {
      case "*IDN?":
        return this.send("EMULATED,PSU-2CH,SN000042,1.0\n");
      case "SYST:ERR?":
      case "SYSTEM:ERROR?":
        return this.send(`${this.errors.shift() ?? '0,"No error"'}\n`);
      case "INST:NSEL":
      case "INSTRUMENT:NSELECT": {
        const n = Number(arg);
        if (!(n >= 1 && n <= this.outputs.length)) this.errors.push('-222,"Data out of range"');
        else this.selected = n;
        return;
      }
      case "VOLT":
        out.volt = Number(arg);
        return;
      case "CURR":
        out.curr = Number(arg);
        return;
      case "OUTP":
      case "OUTPUT": {
        const v = arg.toUpperCase();
        if (!["ON", "OFF", "1", "0"].includes(v)) this.errors.push('-224,"Illegal parameter value"');
        else if (!this.ignoreOutput) out.on = v === "ON" || v === "1";
        return;
      }
      case "OUTP?":
      case "OUTPUT?":
        return this.send(out.on ? "1\n" : "0\n");
      default:
        this.errors.push('-113,"Undefined header"');
    }
  }
}

export type RelayProtocol = "lcus" | "numato" | "custom-text";

export class RelayBoard extends PtyInstrument {
  /** Coil state per channel number as the board numbers them. */
  readonly energized = new Map<number, boolean>();
  readonly badFrames: number[][] = [];
  #pending: number[] = [];

  constructor(readonly protocol: RelayProtocol) {
    super();
  }

  protected onBytes(bytes: Uint8Array): void {
    this.#pending.push(...bytes);
    if (this.protocol === "lcus") {
      while (this.#pending.length >= 4) {
        const frame = this.#pending.splice(0, 4);
        const [start, channel, op, sum] = frame as [number, number, number, number];
        if (start !== 0xa0 || ((start + channel + op) & 0xff) !== sum || op > 1) this.badFrames.push(frame);
        else this.energized.set(channel, op === 1);
      }
      return;
    }
    const end = this.protocol === "numato" ? 0x0d : 0x0a;
    for (let i = this.#pending.indexOf(end); i >= 0; i = this.#pending.indexOf(end)) {
      const line = Buffer.from(this.#pending.splice(0, i + 1))
        .toString("latin1")
        .trim();
      if (this.protocol === "numato") this.#numato(line);
      else this.#custom(line);
    }
  }

  #numato(line: string) {
    // The module echoes what it received, answers, then prompts.
    const m = /^relay (on|off|read) ([0-9A-V])$/.exec(line);
    let answer = "";
    if (m) {
      const channel = Number.parseInt(m[2]!, 32);
      if (m[1] === "read") answer = `\n\r${this.energized.get(channel) ? "on" : "off"}`;
      else this.energized.set(channel, m[1] === "on");
    }
    this.send(`${line}${answer}\n\r>`);
  }

  #custom(line: string) {
    const m = /^(ON|OFF|STATE) (\d+)$/.exec(line);
    if (!m) return this.send("ERR\r\n");
    const channel = Number(m[2]);
    if (m[1] === "STATE") return this.send(`${this.energized.get(channel) ? "IS ON" : "IS OFF"}\r\n`);
    this.energized.set(channel, m[1] === "ON");
  }
}

/**
 * A device that answers every byte it gets with the same junk (a board on the wrong firmware,
 * a miswired port, a baud mismatch as a client would see it): identify must fail on it.
 */
export class GarbageDevice extends PtyInstrument {
  constructor(private readonly junk = Uint8Array.of(0x55, 0xaa, 0x00, 0xfe)) {
    super();
  }

  protected onBytes(): void {
    this.send(this.junk);
  }
}
