/**
 * `uhubctl` power backend: per-port power switching of a USB hub, through the uhubctl
 * program (run with execa; it needs permission to the hub: root or a udev rule).
 *
 *   uhubctl -l <location> -p <port> -a on|off    switch; prints the status before and after
 *   uhubctl -l <location> -p <port>              status only
 *
 * Status lines look like `  Port 2: 0503 power highspeed enable connect [0483:374b ...]`;
 * a port without power shows `off` (`  Port 2: 0000 off`). A USB 3 hub is two hubs (USB 2
 * and SuperSpeed halves); uhubctl switches both and prints both, so every status block for
 * the port must agree.
 *
 * The read-back only says the hub *reports* the port unpowered. Many hubs switch only the
 * data lines and leave VBUS on: that is why power-cut on a uhubctl board needs
 * `cutsPower: true` in the rig file, after measuring.
 */

import { execa } from "execa";
import type { PowerControl, PowerState } from "../../seams/controls.js";
import type { Clock } from "../../transport/clock.js";
import { InfrastructureError } from "../errors.js";
import { cycleOffOn } from "./power-cycle.js";

export interface UhubctlSpec {
  readonly location: string;
  readonly port: number;
}

export interface UhubctlPortStatus {
  /** The hub as uhubctl names it ("1-1"). */
  readonly hub: string;
  /** "Current" (before the action, or status only) or "New" (after it). */
  readonly when: "current" | "new";
  readonly port: number;
  readonly bits: number;
  readonly powered: boolean;
  /** The rest of the line: flags and the attached device. */
  readonly text: string;
}

/** Parses uhubctl's output into one record per printed port line. */
export function parseUhubctl(output: string): UhubctlPortStatus[] {
  const out: UhubctlPortStatus[] = [];
  let hub: string | undefined;
  let when: "current" | "new" = "current";
  for (const line of output.split(/\r?\n/)) {
    const head = /^(Current|New) status for hub (\S+)/.exec(line);
    if (head) {
      when = head[1] === "New" ? "new" : "current";
      hub = head[2]!;
      continue;
    }
    const port = /^\s+Port (\d+): ([0-9a-fA-F]{4})\s*(.*)$/.exec(line);
    if (port && hub !== undefined) {
      const flags = port[3]!
        .replace(/\[.*\]$/, "")
        .trim()
        .split(/\s+/);
      out.push({
        hub,
        when,
        port: Number(port[1]),
        bits: Number.parseInt(port[2]!, 16),
        powered: !flags.includes("off"),
        text: port[3]!.trim(),
      });
    }
  }
  return out;
}

export class UhubctlPower implements PowerControl {
  readonly backend = "uhubctl";

  constructor(
    private readonly spec: UhubctlSpec,
    private readonly owner: string,
    private readonly clock: Clock,
    private readonly timeouts: { commandMs: number; powerOffMs: number },
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
    const ports = this.#ours(await this.#run([]), "current");
    return ports.every((p) => p.powered) ? "on" : ports.every((p) => !p.powered) ? "off" : "unknown";
  }

  async #switch(on: boolean): Promise<void> {
    const output = await this.#run(["-a", on ? "on" : "off"]);
    const after = this.#ours(output, "new");
    const wrong = after.filter((p) => p.powered !== on);
    if (wrong.length > 0)
      throw new InfrastructureError(
        `${this.owner}: uhubctl ${on ? "on" : "off"}: hub ${this.spec.location} port ${this.spec.port} still reports ` +
          `${wrong.map((p) => `${p.hub}: ${p.bits.toString(16).padStart(4, "0")} ${p.text}`).join("; ")}`,
      );
  }

  /** Our port's status lines of one kind; an infrastructure error when uhubctl printed none. */
  #ours(output: string, when: "current" | "new"): UhubctlPortStatus[] {
    const all = parseUhubctl(output).filter((p) => p.port === this.spec.port);
    const picked = all.filter((p) => p.when === when);
    // Older uhubctl versions print no "New status" block when the state did not change.
    const ports = picked.length > 0 ? picked : all;
    if (ports.length === 0)
      throw new InfrastructureError(
        `${this.owner}: uhubctl printed no status for hub ${this.spec.location} port ${this.spec.port}:\n${output.trim()}`,
      );
    return ports;
  }

  async #run(action: string[]): Promise<string> {
    const args = ["-l", this.spec.location, "-p", String(this.spec.port), ...action];
    const command = `uhubctl ${args.join(" ")}`;
    let result: Awaited<ReturnType<typeof execa>>;
    try {
      result = await execa("uhubctl", args, {
        reject: false,
        timeout: this.timeouts.commandMs,
        stdin: "ignore",
        all: true,
      });
    } catch (error) {
      throw new InfrastructureError(`${this.owner}: cannot run ${command}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const output = String(result.all ?? "");
    if (result.timedOut)
      throw new InfrastructureError(
        `${this.owner}: ${command} timed out after ${this.timeouts.commandMs} ms`,
      );
    if ((result as { code?: string }).code === "ENOENT" || /ENOENT/.test(String(result.message ?? "")))
      throw new InfrastructureError(`${this.owner}: uhubctl is not installed (apt-get install uhubctl)`);
    if (result.exitCode !== 0)
      throw new InfrastructureError(
        `${this.owner}: ${command} exited ${result.exitCode}${output ? `:\n${output.trim()}` : ""}`,
      );
    return output;
  }
}
