/**
 * `hil emulate tkey --uart-pty PATH`: the emulated TKey on a real pty, which is what a TKey
 * is to the host (a CDC serial port), so tkey-runapp or any TKey client can talk to it.
 * Options: --option profile=bellatrix|engineering-release-2|castor|qemu, uds=HEX64,
 * appMaxSize=N, serial=N (the UDI serial), misbehave=SEED[:RATE], qemuTrapRestart=true (QEMU's
 * trap restarts the firmware where a real key halts); dotted keys as the rig file's nested
 * options: udi.vendorId|productId|revision|serial=N, misbehave.seed=N, misbehave.rate=R;
 * --calibration FILE takes the per-frame, hash and boot times of a real key (`hil calibrate`)
 * as `options.timing`. SIGHUP unplugs and replugs the TKey (the only
 * way out of the firmware's silent halt), SIGUSR1 unplugs it, SIGUSR2 plugs it in. As a
 * USB CDC device, the port is there only while the TKey is plugged in: an unplug closes the
 * pty (a host holding it sees the port go), and the firmware's boot serves a new one behind
 * the same link. Wall time: the peer is another process.
 */

import { TKEY_PROFILES, TKeyAbsentError, TKeyDevice } from "../devices/tkey/index.js";
import { type PtyBridge, servePty } from "../expose/uart-pty.js";
import { readCalibration } from "../report/calibration.js";
import { parseFault } from "../sim/faults.js";
import type { HostEnd } from "../transport/byte-pair.js";
import { WallClock } from "../transport/clock.js";
import { emulatorOptions, emulatorSeed, freeUartPtyPath, nestOptions } from "./emulate-args.js";
import type { EmulateOptions } from "./emulate-command.js";
import { exitStatus, runEmulateSession } from "./emulate-session.js";
import { UsageError } from "./usage-error.js";

const TKEY_OPTION_KEYS = ["profile", "uds", "appMaxSize", "serial", "misbehave", "qemuTrapRestart"];
/** Dotted keys, as the rig file's nested options: the UDI's fields, the misbehaving personality's. */
const TKEY_DOTTED_KEYS = [
  "udi.vendorId",
  "udi.productId",
  "udi.revision",
  "udi.serial",
  "misbehave.seed",
  "misbehave.rate",
];

/** `--option`s of `hil emulate tkey` as the TKey's profile and emulator options. */
export function tkeyEmulatorOptions(pairs: readonly string[] | undefined): {
  profile: string | undefined;
  options: Record<string, unknown>;
} {
  const given = nestOptions(emulatorOptions(pairs, [...TKEY_OPTION_KEYS, ...TKEY_DOTTED_KEYS]));
  const profile = given.profile as string | undefined;
  if (profile !== undefined && !(profile in TKEY_PROFILES))
    throw new UsageError(
      `--option profile: unknown '${profile}' (known: ${Object.keys(TKEY_PROFILES).join(", ")})`,
    );
  const options: Record<string, unknown> = {};
  if (given.uds !== undefined) options.uds = given.uds;
  if (given.misbehave !== undefined) options.misbehave = given.misbehave;
  if (given.appMaxSize !== undefined)
    options.appMaxSize = wholeNumber("appMaxSize", given.appMaxSize as string);
  const udi = given.udi as Record<string, unknown> | undefined;
  if (given.serial !== undefined && udi?.serial !== undefined)
    throw new UsageError("--option serial and udi.serial both set the UDI serial: give one");
  if (udi !== undefined) options.udi = { ...udi };
  if (given.serial !== undefined)
    options.udi = { ...udi, serial: wholeNumber("serial", given.serial as string) };
  if (given.qemuTrapRestart !== undefined) {
    if (given.qemuTrapRestart !== "true" && given.qemuTrapRestart !== "false")
      throw new UsageError(
        `--option qemuTrapRestart: expected true or false, got '${String(given.qemuTrapRestart)}'`,
      );
    options.qemuTrapRestart = given.qemuTrapRestart === "true";
  }
  return { profile, options };
}

export async function runEmulateTKey(opts: EmulateOptions): Promise<number> {
  const link = opts["uart-pty"];
  if (!link) throw new UsageError("emulate: --uart-pty PATH is required");
  if (opts.boot !== undefined)
    throw new UsageError("emulate tkey: a TKey has no boot mode; --boot does not apply");
  if (opts.state !== undefined)
    throw new UsageError("emulate tkey: a TKey keeps its app in RAM only; --state does not apply");
  const seed = emulatorSeed(opts.seed);
  const { profile, options } = tkeyEmulatorOptions(opts.option);
  // A real key's measured times (hil calibrate) in place of the defaults; the device checks the keys.
  if (opts.calibration !== undefined) options.timing = (await readCalibration(opts.calibration)).timing;
  const clock = new WallClock();
  // Built before the pty is served: a bad option is refused with nothing started.
  const device = new TKeyDevice({
    clock,
    seed,
    profile,
    options,
    faults: (opts.fault ?? []).map(parseFault),
  });
  await freeUartPtyPath(link);
  await device.power.on();
  let bridge: PtyBridge | undefined;
  let stopping = false;
  let signalLost: () => void = () => {};
  const linkLost = new Promise<void>((resolve) => {
    signalLost = resolve;
  });
  // Port changes run one after another: an unplug can come before the pty of its plug-in is up.
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (work: () => Promise<void>) => {
    queue = queue.then(work).catch(() => {});
    return queue;
  };
  // The pty is the USB port of this plug-in: bytes go to and from the TKey's port of now.
  const attach = async (port: HostEnd) => {
    if (stopping || port.closed) return;
    const b = await servePty(link, clock);
    if (stopping || port.closed) return void (await b.close());
    bridge = b;
    port.onData((bytes) => void b.line.write(bytes).catch(() => {}));
    b.line.onData((bytes) => {
      if (!port.closed) void port.write(bytes).catch(() => {});
    });
    void b.exited.then(() => {
      if (bridge === b && !stopping) signalLost();
    });
  };
  const detach = async () => {
    const b = bridge;
    bridge = undefined;
    await b?.close();
  };
  // After each power-on a signal made, and at the start: the TKey enumerates.
  const plug = () => {
    let port: HostEnd;
    try {
      port = device.port("tkey");
    } catch (e) {
      // Unplugged again before it enumerated: the next power-on plugs it.
      if (!(e instanceof TKeyAbsentError)) throw e;
      return;
    }
    port.onClose(() => void enqueue(detach));
    void enqueue(() => attach(port));
  };
  plug();
  await queue;
  if (!bridge) throw new Error(`emulate tkey: could not serve ${link}`);
  const session = runEmulateSession(device, { log: opts.log, linkLost, booted: plug });
  console.log(`ready ${link}`);
  // While unplugged no pty holds the process open; the signals must still reach it.
  const keepAlive = setInterval(() => {}, 60_000);

  const signal = await session.stopped;
  clearInterval(keepAlive);
  stopping = true;
  await device.power.off();
  await enqueue(detach);
  console.error(`hil emulate: stopped (${signal})`);
  return exitStatus(signal);
}

function wholeNumber(key: string, text: string): number {
  const n = /^0x[0-9a-f]+$/i.test(text)
    ? Number.parseInt(text, 16)
    : /^\d+$/.test(text)
      ? Number(text)
      : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`--option ${key}: '${text}' is not a whole number`);
  return n;
}
