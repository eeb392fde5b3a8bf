import { type ParseArgsConfig, parseArgs } from "node:util";
import { ClientError } from "../clients/errors.js";
import { HilError } from "../seams/errors.js";
import { CALIBRATE_OPTIONS, runCalibrate } from "./calibrate-command.js";
import { CAMPAIGN_OPTIONS, runCampaignCommand } from "./campaign-command.js";
import { DFU_OPTIONS, runDfu } from "./dfu-command.js";
import { EMULATE_OPTIONS, runEmulate } from "./emulate-command.js";
import { FUS_OPTIONS, runFus } from "./fus-command.js";
import { asksForHelp, commandHelp, overview } from "./help.js";
import { INIT_OPTIONS, runInit } from "./init-command.js";
import { KEYGEN_OPTIONS, runKeygen } from "./keygen-command.js";
import {
  LEASES_OPTIONS,
  RELEASE_OPTIONS,
  RESERVE_OPTIONS,
  runLeases,
  runRelease,
  runReserve,
} from "./lease-commands.js";
import { REPLAY_OPTIONS, runReplay } from "./replay-command.js";
import { REPORT_OPTIONS, runReport } from "./report-command.js";
import { runRigs } from "./rigs-command.js";
import { runSuites } from "./run-command.js";
import { runSign, SIGN_OPTIONS } from "./sign-command.js";
import { runSmp, SMP_OPTIONS } from "./smp-command.js";
import { runTKey, TKEY_OPTIONS } from "./tkey-command.js";
import { UsageError } from "./usage-error.js";
import { runUsart, USART_OPTIONS } from "./usart-command.js";

/** Runs one `hil` invocation; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    // `hil <command> --help` before any option parsing: the command's own help, exit 0.
    const help = command === undefined ? undefined : commandHelp(command);
    if (help !== undefined && asksForHelp(rest)) {
      console.log(help);
      return 0;
    }
    switch (command) {
      case "run":
        return await runSuites(parse(rest, RUN_OPTIONS));
      case "report":
        return await runReport(parse(rest, REPORT_OPTIONS));
      case "calibrate":
        return await runCalibrate(parse(rest, CALIBRATE_OPTIONS));
      case "replay": {
        const { values, positionals } = parseWithPositionals(rest, REPLAY_OPTIONS);
        return await runReplay(values, positionals);
      }
      case "rigs":
        return await runRigs(parse(rest, RIGS_OPTIONS));
      case "init": {
        const { values, positionals } = parseWithPositionals(rest, INIT_OPTIONS);
        return await runInit(values, positionals);
      }
      case "reserve": {
        const { values, positionals } = parseWithPositionals(rest, RESERVE_OPTIONS);
        return await runReserve(values, positionals);
      }
      case "release": {
        const { values, positionals } = parseWithPositionals(rest, RELEASE_OPTIONS);
        return await runRelease(values, positionals);
      }
      case "leases":
        return await runLeases(parse(rest, LEASES_OPTIONS));
      case "campaign":
        return await runCampaignCommand(parse(rest, CAMPAIGN_OPTIONS));
      case "keygen":
        return await runKeygen(parse(rest, KEYGEN_OPTIONS));
      case "sign": {
        const { values, positionals } = parseWithPositionals(rest, SIGN_OPTIONS);
        return await runSign(values, positionals);
      }
      case "smp": {
        const { values, positionals } = parseWithPositionals(rest, SMP_OPTIONS);
        return await runSmp(values, positionals);
      }
      case "tkey": {
        const { values, positionals } = parseWithPositionals(rest, TKEY_OPTIONS);
        return await runTKey(values, positionals);
      }
      case "usart": {
        const { values, positionals } = parseWithPositionals(rest, USART_OPTIONS);
        return await runUsart(values, positionals);
      }
      case "dfu": {
        const { values, positionals } = parseWithPositionals(rest, DFU_OPTIONS);
        return await runDfu(values, positionals);
      }
      case "fus": {
        const { values, positionals } = parseWithPositionals(rest, FUS_OPTIONS);
        return await runFus(values, positionals);
      }
      case "emulate": {
        const { values, positionals } = parseWithPositionals(rest, EMULATE_OPTIONS);
        return await runEmulate(values, positionals);
      }
      case undefined:
      case "help":
      case "--help":
      case "-h": {
        // `hil help <command>` as `hil <command> --help`.
        const topic = rest[0] === undefined ? undefined : commandHelp(rest[0]);
        console.log(topic ?? overview());
        return command === undefined ? 2 : 0;
      }
      default:
        throw new UsageError(`unknown command '${command}' (try: hil help)`);
    }
  } catch (e) {
    if (e instanceof UsageError || isFileError(e)) {
      console.error(`hil: ${(e as Error).message}`);
      return 2;
    }
    throw e;
  }
}

const RUN_OPTIONS = {
  rig: { type: "string" },
  grep: { type: "string" },
  seed: { type: "string" },
  fault: { type: "string", multiple: true },
  "keep-results": { type: "boolean" },
  "allow-irreversible": { type: "boolean" },
  "skip-check": { type: "boolean" },
  shard: { type: "string" },
  twin: { type: "boolean" },
  suites: { type: "string", multiple: true },
  pack: { type: "string", multiple: true },
} as const;

const RIGS_OPTIONS = {
  rig: { type: "string" },
  check: { type: "boolean" },
  cycle: { type: "boolean" },
} as const;

function parse<T extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    // parseArgs messages are already one clear line ("Unknown option '--rgi'").
    throw new UsageError((e as Error).message.split("\n")[0]);
  }
}

function parseWithPositionals<T extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0]);
  }
}

/** Errors about the user's input: rig file problems, unreadable paths, bad emulator options (any
 * usage error but a client's, whose command prints its own transcript). */
function isFileError(e: unknown): boolean {
  return (
    e instanceof Error &&
    (e.name === "RigFileError" ||
      e.name === "FaultPlanError" ||
      (e instanceof HilError && e.category === "usage" && !(e instanceof ClientError)) ||
      "path" in e)
  );
}
