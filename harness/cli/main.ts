import { type ParseArgsConfig, parseArgs } from "node:util";
import { DFU_OPTIONS, runDfu } from "./dfu-command.js";
import { EMULATE_OPTIONS, runEmulate } from "./emulate-command.js";
import { EMULATE_PROFILE_NAMES } from "./emulate-profiles.js";
import { FUS_OPTIONS, runFus } from "./fus-command.js";
import { KEYGEN_OPTIONS, runKeygen } from "./keygen-command.js";
import { REPLAY_OPTIONS, runReplay } from "./replay-command.js";
import { REPORT_OPTIONS, runReport } from "./report-command.js";
import { runRigs } from "./rigs-command.js";
import { runSuites } from "./run-command.js";
import { runSign, SIGN_OPTIONS } from "./sign-command.js";
import { runSmp, SMP_OPTIONS } from "./smp-command.js";
import { runTKey, TKEY_OPTIONS } from "./tkey-command.js";
import { UsageError } from "./usage-error.js";
import { runUsart, USART_OPTIONS } from "./usart-command.js";

const USAGE = `usage: hil <command> [options]

commands:
  run   [--rig FILE] [--grep PATTERN] [--seed N] [--fault WHERE=WHAT]... [--keep-results]
        [--allow-irreversible] [--skip-check] [--shard I/N]
        run the suites on a rig (default rigs/emulated.yaml); exit code 1 when a test failed;
        --allow-irreversible lets FUS key lock, RDP level 2, ... run on boards marked sacrificial;
        lab boards are health-checked first (--skip-check: not) and quarantined when they fail;
        --shard I/N runs the I-th of N deterministic shares of the suite files (one per rack job)
  report [--results DIR] [--out DIR] [--no-allure] [--gate [--min-success-rate R] [--require SET]...]
        from the run's Allure results: reports/junit.xml, reports/qualification-matrix.{md,html},
        the single-file Allure report with history (reports/allure-report); --gate exits 3 when a
        critical test failed, the success rate is below R (default 1), or a clause of SET has no passing test
  replay ID [--rig FILE]
        rerun a failed test from its bundle reports/repro/ID (same rig, seed, faults) and say
        whether it still fails the same way (exit 0) or not (exit 1)
  rigs  [--rig FILE] [--check [--cycle]]
        validate a rig file and list its boards and capabilities; --check health-checks each
        board (power backend answers, board found by identity and asked who it is: bootloader
        ID/PID, FUS version, TKey name/version, MCUboot images; --cycle power-cycles first),
        exit 1 when one fails (infrastructure)
  keygen -t ecdsa-p256|ed25519 -k FILE
        write a new PEM private key for signing MCUboot images (as imgtool keygen)
  sign  -k KEY --version X.Y.Z[+B] -H HDR_SIZE -S SLOT_SIZE [--pad-header] [--align N]
        [--max-align N] [--pad|--confirm] [--pad-sig] [--public-key-format hash|full]
        [--pure] [-L ADDR] [--security-counter N] INFILE OUTFILE
        sign an MCUboot image (as imgtool sign)
  smp   list|upload FILE [--test]|test HASH|confirm [HASH]|reset|echo TEXT --board ID [--rig FILE]
        [--reset] [--upgrade] [--timeout MS]
        mcumgr-style SMP commands to an nrf52840 board's serial port (a lab board's port found by
        identity, and again after a reset); --reset ends upload/test/confirm with a reset and lists
        what the application reports once it answers again
  emulate <${EMULATE_PROFILE_NAMES.join("|")}> --uart-pty PATH [--seed N] [--state DIR] [--fault WHERE=WHAT]...
        [--boot app] [--option KEY=VALUE]... [--log]
        serve an emulated board's USART bootloader on a pty linked at PATH until SIGINT/SIGTERM
        (stm32*: --usbip [HOST:]PORT also or instead serves its USB DFU port over USB/IP as bus id 1-1,
        default host 127.0.0.1; prints "ready usbip HOST:PORT 1-1"; unauthenticated: keep it on loopback)
        (tkey: --option profile=bellatrix|engineering-release-2|castor|qemu, uds=HEX, serial=N;
        SIGHUP replugs the TKey; nrf52840-mcuboot: --key PUB.pem [--option image=SIGNED.bin]
        [--option console=uart|usb-cdc], MCUboot serial recovery / SMP on the pty)
  tkey  info|load APP.bin [--uss FILE] (--rig FILE --board ID | --port PATH) [--transcript FILE]
        probe a TKey (name, version, UDI) and load an app, digest checked; every read has a timeout
  usart info|read ADDR LEN [-o FILE]|write FILE [ADDR] [--erase] [--verify]|erase --pages A-B|--mass|go [ADDR]
        (--rig FILE --board ID | --port PATH [--baud N] [--parity even|none]) [--transcript FILE]
        drive an STM32 USART bootloader (AN3155) by hand; prints the transcript on failure
  dfu   list|download FILE [--verify] [--leave]|upload FILE --address A --length N|erase --address A [--length N]|--mass|leave
        --rig FILE --board ID [--alt NAME|N] [--address A]
        drive an STM32 DfuSe bootloader (AN3156) by hand, dfu-util style; .bin needs --address
  fus   state|start|info|upgrade FILE [--address A]|delete|start-ws|auth-key FILE|lock-auth-key
        --rig FILE --board ID [--transport usb-dfu|usart] [--allow-irreversible]
        drive STM32WB FUS (AN5185) through the ROM bootloader; prints the state trace; lock-auth-key
        is irreversible: needs a sacrificial board and --allow-irreversible

environment: HIL_RIG (rig file), HIL_SEED (run seed), CI (unattended: manual steps are skipped),
  HIL_ALLOW_IRREVERSIBLE=1 (as --allow-irreversible), HIL_LEASE_DIR (board leases),
  HIL_LEASE_TIMEOUT_MS (wait for a leased board, default 600000)`;

/** Runs one `hil` invocation; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "run":
        return await runSuites(parse(rest, RUN_OPTIONS));
      case "report":
        return await runReport(parse(rest, REPORT_OPTIONS));
      case "replay": {
        const { values, positionals } = parseWithPositionals(rest, REPLAY_OPTIONS);
        return await runReplay(values, positionals);
      }
      case "rigs":
        return await runRigs(parse(rest, RIGS_OPTIONS));
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
      case "-h":
        console.log(USAGE);
        return command === undefined ? 2 : 0;
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

/** Errors about the files named on the command line: rig file problems, unreadable paths. */
function isFileError(e: unknown): boolean {
  return e instanceof Error && (e.name === "RigFileError" || e.name === "FaultPlanError" || "path" in e);
}
