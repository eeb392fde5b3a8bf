import { execaCommand } from "execa";
import type { PowerControl, PowerState } from "../../seams/controls.js";
import type { Clock } from "../../transport/clock.js";
import { InfrastructureError } from "../errors.js";
import { cycleOffOn } from "./power-cycle.js";

export interface CommandPowerSpec {
  on: string;
  off: string;
  state?: string | undefined;
}

/**
 * `command` power backend: any user command (a PDU CLI, a smart plug script); `{board}` in
 * a command is replaced by the board id. Each call has
 * the board's command timeout; a failing command is an infrastructure error carrying its
 * exit code and stderr, never a test failure of the firmware.
 */
export class CommandPower implements PowerControl {
  readonly backend = "command";

  constructor(
    private readonly spec: CommandPowerSpec,
    private readonly clock: Clock,
    private readonly timeouts: { commandMs: number; powerOffMs: number },
    private readonly boardId: string,
  ) {}

  async on(): Promise<void> {
    await this.#run("on", this.spec.on);
  }

  async off(): Promise<void> {
    await this.#run("off", this.spec.off);
  }

  cycle(offMs = this.timeouts.powerOffMs): Promise<void> {
    return cycleOffOn(this, this.clock, offMs);
  }

  async state(): Promise<PowerState> {
    if (!this.spec.state) return "unknown";
    const out = (await this.#run("state", this.spec.state)).trim().toLowerCase();
    if (out === "on" || out === "off") return out;
    throw new InfrastructureError(
      `board ${this.boardId}: power state command printed '${out}', expected 'on' or 'off'`,
    );
  }

  async #run(what: string, template: string): Promise<string> {
    const command = template.replaceAll("{board}", this.boardId);
    const result = await execaCommand(command, {
      shell: true,
      reject: false,
      timeout: this.timeouts.commandMs,
      stdin: "ignore",
    });
    if (result.timedOut)
      throw new InfrastructureError(
        `board ${this.boardId}: power ${what} command timed out after ${this.timeouts.commandMs} ms: ${command}`,
      );
    if (result.exitCode !== 0)
      throw new InfrastructureError(
        `board ${this.boardId}: power ${what} command exited ${result.exitCode}: ${command}${result.stderr ? `\n${result.stderr}` : ""}`,
      );
    return result.stdout;
  }
}
