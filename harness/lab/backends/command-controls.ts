/**
 * `command` boot and reset controls: any user command (the CanoKey enter-DFU APDU script, a
 * PDU's reset outlet, ...), run through a shell with the board's command timeout.
 * Placeholders: `{board}` is replaced by the board id. A failing command is an
 * infrastructure error with its exit code and stderr.
 */
import { execaCommand } from "execa";
import type { BootControl, ResetControl } from "../../seams/controls.js";
import { InfrastructureError } from "../errors.js";

export function fillPlaceholders(command: string, boardId: string): string {
  return command.replaceAll("{board}", boardId);
}

export async function runUserCommand(
  owner: string,
  what: string,
  command: string,
  boardId: string,
  commandMs: number,
): Promise<string> {
  const line = fillPlaceholders(command, boardId);
  const result = await execaCommand(line, {
    shell: true,
    reject: false,
    timeout: commandMs,
    stdin: "ignore",
  });
  if (result.timedOut)
    throw new InfrastructureError(`${owner}: ${what} command timed out after ${commandMs} ms: ${line}`);
  if (result.exitCode !== 0)
    throw new InfrastructureError(
      `${owner}: ${what} command exited ${result.exitCode}: ${line}${result.stderr ? `\n${result.stderr}` : ""}`,
    );
  return result.stdout;
}

export function commandBoot(
  boardId: string,
  spec: { bootloader: string; application: string },
  commandMs: number,
): BootControl {
  const owner = `board ${boardId}`;
  return {
    backend: "command",
    bootloader: async () => {
      await runUserCommand(owner, "boot bootloader", spec.bootloader, boardId, commandMs);
    },
    application: async () => {
      await runUserCommand(owner, "boot application", spec.application, boardId, commandMs);
    },
  };
}

export function commandReset(boardId: string, command: string, commandMs: number): ResetControl {
  return {
    backend: "command",
    reset: async () => {
      await runUserCommand(`board ${boardId}`, "reset", command, boardId, commandMs);
    },
  };
}
