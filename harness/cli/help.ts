/**
 * What `hil --help` and `hil <command> --help` print: a short overview of the commands, and
 * per command its synopsis and what it does. One table, so the overview and the per-command
 * help cannot drift apart.
 */
import { EMULATE_PROFILE_NAMES } from "./emulate-profiles.js";

export interface CommandHelp {
  /** The command's arguments and options, as typed. */
  synopsis: string;
  /** One line for the overview. */
  summary: string;
  /** What it does, its options and exit codes. */
  details: string;
}

export const COMMAND_HELP: Readonly<Record<string, CommandHelp>> = {
  run: {
    synopsis:
      "[--rig FILE] [--grep PATTERN] [--seed N] [--fault WHERE=WHAT]... [--keep-results]\n" +
      "        [--allow-irreversible] [--skip-check] [--shard I/N] [--twin] [--suites DIR]...\n" +
      "        [--pack NAME,...]",
    summary: "run the suites on a rig",
    details: `Runs the suites (*.spec.ts, *.spec.js) on a rig (default rigs/emulated.yaml); Allure results go
to reports/allure-results, bundles of failed tests to reports/repro/<id>.
  --suites DIR           a folder of suites (repeatable; default ./suites, or update-hil's own
                         suites/ inside it)
  --pack NAME,...        built-in suites run beside them as a qualification pack: stm32-dfu,
                         stm32-usart, stm32-fus (fus), nrf52840-mcuboot (mcuboot), tkey, sim-nor
  --rig FILE             the rig file (or HIL_RIG)
  --grep PATTERN         only the tests whose full title matches
  --seed N               the run seed: every random choice of the run (or HIL_SEED)
  --fault WHERE=WHAT     a fault injected into every emulated board (repeatable)
  --keep-results         keep the results and bundles of earlier runs
  --allow-irreversible   FUS key lock, RDP level 2, ... may run on boards marked sacrificial
  --skip-check           no health check of lab boards first (failing boards are quarantined)
  --shard I/N            the I-th of N deterministic shares of the suite files (one per rack job)
  --twin                 each lab board's scenarios also run on its emulated twin; where the two
                         transcripts part is reported as a finding about the emulator
Ends with the failed tests, their repro ids and the \`hil replay\` command for each.
Exit code 1 when a test failed, else 4 when a lab board could not be tested (quarantined at the
start or during the run, or leased by another run past HIL_LEASE_TIMEOUT_MS; the close names
each with why); 2 for a bad option or rig file.`,
  },
  report: {
    synopsis:
      "[--results DIR] [--out DIR] [--no-allure] [--gate [--min-success-rate R] [--require SET]...]\n" +
      "        [--suites DIR]... [--pack NAME,...] [--drift FRACTION[/NIGHTS]]",
    summary: "JUnit, qualification matrix and Allure report from a run's results",
    details: `From the run's Allure results: reports/junit.xml, reports/qualification-matrix.{md,html},
the single-file Allure report with history (reports/allure-report).
  --results DIR            the Allure results (default reports/allure-results); repeated, the
                           results of several hosts merged into one report and one matrix
  --out DIR                where the reports go (default reports)
  --no-allure              skip the Allure report (made only where the allure package is installed)
  --suites DIR, --pack N   the suites whose declared clauses the matrix lists (default: the last
                           run's); a team's own clauses come from hil-clauses.yaml (or HIL_CLAUSES)
  --gate                   exit 3 when a critical test failed, the success rate is below
                           --min-success-rate R (default 1), or a clause of a --require SET
                           has no passing test
  --drift F[/N]            flag an operation whose time per unit over the last N nights (default
                           5) is more than F (default 0.1) above the board's earlier nights'`,
  },
  calibrate: {
    synopsis: "--history FILE --board ID [--nights N] [--baud N] [--out FILE]",
    summary: "timing overlay for an emulated board from a lab board's measured operations",
    details: `Reads the per-operation timing hil report keeps in reports/hil-history.jsonl and writes the
board's page erase, program, mass erase and re-enumeration times, on a WB55 also its FUS
install phases (medians over the nights, each with where it came from) as JSON, for \`emulated: { calibration: FILE }\` in a rig file or
\`hil emulate --calibration FILE\`.
  --history FILE           the hil history (reports/hil-history.jsonl)
  --board ID               the lab board's id in the rig file
  --nights N               only the last N nights that timed the board
  --baud N                 a board timed over USART: its line's rate where the history records
                           none (default 115200); the figures leave that line time out, and the
                           overlay says the rate (usartBaud)
  --out FILE               where the overlay goes (default standard output)`,
  },
  replay: {
    synopsis: "ID [--rig FILE]",
    summary: "rerun a failed test from its repro bundle",
    details: `Reruns a failed test from its bundle reports/repro/ID (same rig, seed, faults) and says
whether it still fails the same way (exit 0) or not (exit 1). \`hil run\` prints the ID of each
failed test.`,
  },
  init: {
    synopsis: "[DIR] [--family stm32l432,stm32wb55,nrf52840,tkey]",
    summary: "scaffold a project that installs update-hil: rigs, sample suites, scripts",
    details: `Scaffolds DIR (default .) as a firmware team's test project: package.json with update-hil
and the scripts regress (run + report), report and qualify (with the built-in packs),
rigs/emulated.yaml (the default emulated rack), rigs/lab.example.yaml (a commented lab rack),
a sample suite per family (default stm32l432), hil-clauses.yaml (your clauses) and
.mocharc.json (plain mocha). Existing files are kept. Then: npm install && npm run regress.`,
  },
  campaign: {
    synopsis:
      "[--rig FILE] [--family F]... [--runs N | --budget 10m] [--seed S] [--max-faults K]\n" +
      "        [--what power-cut,power-cut-torn,flash-fail,bit-flip,...] [--shard I/N] [--workers W]\n" +
      "        [--plant DEFECT]",
    summary: "seeded multi-fault plans on each family's update, failures shrunk to a minimal plan",
    details: `For each plan, 1..K faults (WHERE=WHAT, positions from the start of the update) drawn from
the plan's seed, the family's update on its emulated board, recovery as the documents prescribe,
a clean update; then the invariants (never bricked, old or new image, no hang, no harness error),
each named by its clause. A failing plan is shrunk to a minimal one and written as a bundle
reports/repro/campaign-<family>-s<seed>-p<index> that \`hil replay\` runs.
  --family F          stm32l432 (DFU), stm32l432-usart, nrf52840 (MCUboot), sim-nor, tkey,
                      stm32wb55 (FUS stack install and FUS upgrade) (repeatable;
                      default every one whose board is on the rig)
  --runs N            plans per family (default 100), or --budget 90s|10m|1h of wall time
  --seed S            the campaign seed (default: from the clock, printed)
  --max-faults K      at most K faults per plan (default 3)
  --what LIST         the fault kinds to draw (default all)
  --shard I/N         the I-th of N shares of the plans; the shards' union is the whole run
  --workers W         worker threads (default 2)
  --plant DEFECT      an emulator defect to find: dfu-skip-erase, fus-half-installed (off unless named)
Exit code 1 when a plan broke an invariant, 2 for a bad option.`,
  },
  rigs: {
    synopsis: "[--rig FILE] [--check [--cycle]]",
    summary: "validate a rig file, list its boards; --check health-checks them",
    details: `Validates a rig file and lists its boards and capabilities; --check health-checks each
board (power backend answers, board found by identity and asked who it is: bootloader ID/PID,
FUS version, TKey name/version, MCUboot images; --cycle power-cycles first), exit 1 when one
fails (infrastructure).`,
  },
  reserve: {
    synopsis: "<board> [--for 2h] [--note TEXT] [--rig FILE]",
    summary: "reserve a lab board for a while (runs wait for it, then skip it)",
    details: `Leases a lab board for --for (default 4h; 30m, 2h, 1h30m, 1d) with a note saying why, where the
rig keeps its leases (lock files, or etcd: the rig file's \`leases\`, or HIL_LEASE_ETCD). A run wants
the board waits up to HIL_LEASE_TIMEOUT_MS, then skips its tests naming the holder.
Exit 1 when someone else holds the board (named).`,
  },
  release: {
    synopsis: "<board> [--rig FILE]",
    summary: "end the reservation or lease of a lab board",
    details: "Ends the lease or reservation of a lab board, whoever holds it, and says whose it was.",
  },
  leases: {
    synopsis: "[--rig FILE]",
    summary: "who holds which board, since when, until when",
    details:
      "Lists the boards leased or reserved: who (user, host, pid), since when, until when, and the note.",
  },
  keygen: {
    synopsis: "-t ecdsa-p256|ed25519 -k FILE",
    summary: "write a PEM private key for signing MCUboot images",
    details: "Writes a new PEM private key for signing MCUboot images (as imgtool keygen).",
  },
  sign: {
    synopsis:
      "-k KEY --version X.Y.Z[+B] -H HDR_SIZE -S SLOT_SIZE [--pad-header] [--align N]\n" +
      "        [--max-align N] [--pad|--confirm] [--pad-sig] [--public-key-format hash|full]\n" +
      '        [--pure] [-L ADDR] [--security-counter N|auto] [-d "(ID, X.Y.Z)"] [--overwrite-only]\n' +
      "        [--erased-val 0|0xff] INFILE OUTFILE",
    summary: "sign an MCUboot image (as imgtool sign)",
    details: "Signs an MCUboot image with the options of imgtool sign.",
  },
  smp: {
    synopsis:
      "list|upload FILE [--test]|test HASH|confirm [HASH]|reset|echo TEXT --board ID [--rig FILE]\n" +
      "        [--reset] [--upgrade] [--timeout MS]",
    summary: "mcumgr-style SMP commands to an nrf52840 board",
    details: `mcumgr-style SMP commands to an nrf52840 board's serial port (a lab board's port found by
identity, and again after a reset); --reset ends upload/test/confirm with a reset and lists
what the application reports once it answers again.`,
  },
  emulate: {
    synopsis:
      `<${EMULATE_PROFILE_NAMES.join("|")}> --uart-pty PATH [--seed N] [--state DIR]\n` +
      "        [--fault WHERE=WHAT]... [--boot app] [--option KEY=VALUE]... [--log]",
    summary: "serve an emulated board on a pty (and USB/IP) until stopped",
    details: `Serves an emulated board's USART bootloader on a pty linked at PATH until SIGINT/SIGTERM.
The board is named by its rig family; stm32l432kc and nrf52840-mcuboot still work.
--option KEY.SUB=VALUE (a dotted key) sets a nested option, as a rig file's emulated.options
  { KEY: { SUB: VALUE } } does; there true, false and numbers are parsed (plain keys stay text):
  --option dfu.l4EraseStall=true, --option timing.pageEraseMs=30 (stm32*, over --calibration),
  --option udi.serial=7 (tkey), --option misbehave.seed=3 --option misbehave.rate=0.2 (tkey, nrf52840).
stm32*: --usbip [HOST:]PORT also or instead serves its USB DFU port over USB/IP as bus id 1-1
  (default host 127.0.0.1; prints "ready usbip HOST:PORT 1-1"; unauthenticated: keep it on loopback).
  --calibration FILE takes erase/program/connect (WB55: FUS) times from \`hil calibrate\` instead of the datasheet's;
  --option pace=realtime charges the USART's line time (8E1) in wall time, as a real board's line
  takes it, at the baud rate the client set on the pty (read with stty at each 0x7F, as the ROM
  auto-bauds); where that cannot be read, at --option usartBaud=N (default 115200).
tkey: --option profile=bellatrix|engineering-release-2|castor|qemu, uds=HEX, serial=N,
  qemuTrapRestart=true (QEMU: a trap restarts the firmware instead of halting it);
  --calibration FILE takes a real key's per-frame time from \`hil calibrate\`; SIGHUP replugs the TKey.
nrf52840: --key PUB.pem [--option image=SIGNED.bin] [--option console=uart|usb-cdc]
  [--option mode=swap-using-move|swap-using-scratch|overwrite-only],
  MCUboot serial recovery / SMP on the pty; --calibration FILE takes erase/write/boot/upload times
  from \`hil calibrate\`.`,
  },
  tkey: {
    synopsis: "info|load APP.bin [--uss FILE] (--rig FILE --board ID | --port PATH) [--transcript FILE]",
    summary: "probe a TKey and load an app",
    details: "Probes a TKey (name, version, UDI) and loads an app, digest checked; every read has a timeout.",
  },
  usart: {
    synopsis:
      "info|read ADDR LEN [-o FILE]|write FILE [ADDR] [--erase] [--verify]|erase --pages A-B|--mass|go [ADDR]\n" +
      "        (--rig FILE --board ID | --port PATH [--baud N] [--parity even|none]) [--transcript FILE]",
    summary: "drive an STM32 USART bootloader (AN3155) by hand",
    details:
      "Drives an STM32 USART bootloader (AN3155) by hand; prints the transcript on failure.\n" +
      "--port rfc2217:HOST:PORT (or tcp:HOST:PORT) reaches a port a rack host's ser2net serves.",
  },
  dfu: {
    synopsis:
      "list|download FILE [--verify] [--leave]|upload FILE --address A --length N|erase --address A [--length N]|--mass|leave\n" +
      "        --rig FILE --board ID [--alt NAME|N] [--address A]",
    summary: "drive an STM32 DfuSe bootloader (AN3156) by hand",
    details: "Drives an STM32 DfuSe bootloader (AN3156) by hand, dfu-util style; a .bin needs --address.",
  },
  fus: {
    synopsis:
      "state|start|info|upgrade FILE [--address A]|delete|start-ws|auth-key FILE|lock-auth-key\n" +
      "        --rig FILE --board ID [--transport usb-dfu|usart] [--allow-irreversible]",
    summary: "drive STM32WB FUS (AN5185) through the ROM bootloader",
    details: `Drives STM32WB FUS (AN5185) through the ROM bootloader and prints the state trace;
lock-auth-key is irreversible: it needs a sacrificial board and --allow-irreversible.`,
  },
};

const ENVIRONMENT = `environment: HIL_RIG (rig file), HIL_SEED (run seed), CI (unattended: manual steps are skipped),
  HIL_ALLOW_IRREVERSIBLE=1 (as --allow-irreversible), HIL_LEASE_DIR or HIL_LEASE_ETCD (board leases:
  lock files, or etcd endpoints), HIL_LEASE_TIMEOUT_MS (wait for a leased board, default 600000)`;

/** `hil --help`: one line per command. */
export function overview(): string {
  const width = Math.max(...Object.keys(COMMAND_HELP).map((n) => n.length));
  return [
    "usage: hil <command> [options]",
    "",
    "commands:",
    ...Object.entries(COMMAND_HELP).map(([name, h]) => `  ${name.padEnd(width)}  ${h.summary}`),
    "",
    "hil <command> --help shows a command's options.",
    ENVIRONMENT,
  ].join("\n");
}

/** `hil <command> --help`, or undefined for an unknown command. */
export function commandHelp(command: string): string | undefined {
  const h = COMMAND_HELP[command];
  if (!h) return undefined;
  return [`usage: hil ${command} ${h.synopsis}`, "", h.details].join("\n");
}

/** Does the command line ask for help (`--help` or `-h` anywhere before a `--`)? */
export function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}
