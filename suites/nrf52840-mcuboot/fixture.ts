import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import type { SmpClient } from "../../harness/clients/smp/index.js";
import {
  type Board,
  inspectIf,
  type Nrf52840Inspect,
  Random,
  SmpLink,
  skipWithReason,
} from "../../harness/index.js";
import {
  isPrivate,
  type ParsedImage,
  type PrivateKey,
  parseImage,
  parsePemKey,
  parseVersion,
  signImage,
  type TrailerState,
} from "../../harness/protocol/mcuboot/index.js";

const FIXTURES = join(import.meta.dirname, "..", "..", "fixtures", "mcuboot");

/** A test-only key from fixtures/mcuboot (the seed's private_key.pem / do_not_use_this_key.pem). */
export function fixtureKey(name: "test-only-ecdsa-p256" | "test-only-wrong-ecdsa-p256"): PrivateKey {
  const key = parsePemKey(readFileSync(join(FIXTURES, `${name}.pem`), "utf8"), name);
  if (!isPrivate(key)) throw new Error(`${name}.pem is not a private key`);
  return key;
}

export const CUSTOM_KEY = fixtureKey("test-only-ecdsa-p256");
export const WRONG_KEY = fixtureKey("test-only-wrong-ecdsa-p256");

/**
 * Where a lab board's application comes from: an unsigned build of Zephyr's smp_svr sample
 * (SMP over the console UART or USB CDC ACM) for the board, which the suites sign with
 * their own versions and keys. On a lab board the image must be a real SMP server: after
 * every swap it is the only thing that answers.
 */
export const LAB_APP_ENV = "HIL_MCUBOOT_APP";

let labApp: { path: string; bytes: Uint8Array } | undefined;

function labAppBytes(): Uint8Array {
  const path = process.env[LAB_APP_ENV];
  if (!path) throw new Error(`${LAB_APP_ENV} is not set: a lab nrf52840 board needs a real SMP application`);
  if (labApp?.path !== path) {
    try {
      labApp = { path, bytes: new Uint8Array(readFileSync(path)) };
    } catch (e) {
      throw new Error(`${LAB_APP_ENV}=${path}: cannot read the application: ${(e as Error).message}`);
    }
  }
  return labApp.bytes;
}

const HEADER_SIZE = 0x200;

/**
 * An application image signed like `hil sign -k KEY --version V -H 0x200 -S 0x76000 --pad-header`.
 * Emulated boards get `size` seeded bytes; a lab board gets the application of
 * {@link LAB_APP_ENV} (`size` ignored). A Zephyr build made for MCUboot already begins with
 * 0x200 zero bytes (CONFIG_ROM_START_OFFSET), which the header then fills, as `west sign` does.
 */
export function signedApp(board: Board, version: string, size: number, key = CUSTOM_KEY): Uint8Array {
  let payload: Uint8Array;
  if (board.emulated) {
    const r = new Random(board.seed).fork(`app ${version} ${size}`);
    payload = r.bytes(size);
  } else payload = labAppBytes();
  const roomForHeader =
    payload.length > HEADER_SIZE && payload.subarray(0, HEADER_SIZE).every((b) => b === 0);
  return signImage(payload, {
    key,
    version: parseVersion(version),
    headerSize: HEADER_SIZE,
    slotSize: 0x76000,
    padHeader: board.emulated || !roomForHeader,
  });
}

export const hashOf = (image: Uint8Array): Uint8Array => parseImage(image).hash!;
export const info = (image: Uint8Array): ParsedImage => parseImage(image);

/** White-box view of an emulated nrf52840 board, or undefined on a lab board. */
export function emulatedNrf(board: Board): Nrf52840Inspect | undefined {
  return inspectIf(board, "nrf52840");
}

/**
 * The suites' hooks for one board: on a lab board without {@link LAB_APP_ENV} every test
 * skips with the reason; after the board's tests its port is closed.
 */
export function mcubootHooks(board: Board): void {
  beforeEach(async function () {
    if (board.emulated || process.env[LAB_APP_ENV]) return;
    const reason = `lab board ${board.id}: set ${LAB_APP_ENV} to an unsigned build of Zephyr's smp_svr for it (the suites sign it with fixtures/mcuboot's test-only key, which its MCUboot must be built with)`;
    await skipWithReason(this, reason);
  });
  after(() => sessions.get(board.id)?.close());
}

/** One board under test: its SMP link (re-resolved after every reset) and, when emulated, the emulator. */
export class Session {
  constructor(
    readonly board: Board,
    readonly link: SmpLink,
    /** The white-box view, for flash and trailer checks; undefined on a lab board. */
    readonly dev: Nrf52840Inspect | undefined,
  ) {}

  /** The client on the board's port as it is now (a new one after each reset). */
  get client(): SmpClient {
    return this.link.client;
  }

  /** `os reset`, then wait until the application answers again (swaps take seconds of device time). */
  async reset(): Promise<SmpClient> {
    return this.link.reset();
  }

  /** The version the board runs, from the image list; on an emulator also checked against what MCUboot booted. */
  async running(): Promise<string | undefined> {
    const active = (await this.client.list()).find((i) => i.active);
    if (this.dev) expect(this.dev.runningVersion, "the image MCUboot booted").to.equal(active?.version);
    return active?.version;
  }

  close(): Promise<void> {
    return this.link.close();
  }
}

const sessions = new Map<string, Session>();

/**
 * Factory state (the board's strategy): `v1` running, confirmed, the secondary slot empty.
 * - Emulated: `v1` programmed into the primary slot over SWD, everything else erased; power on.
 * - Lab (SMP only): a pending or unconfirmed state is settled, then unless `v1` already
 *   runs it is uploaded, made permanent and booted; the secondary slot is erased.
 */
export async function factory(board: Board, v1: Uint8Array): Promise<Session> {
  await sessions.get(board.id)?.close();
  sessions.delete(board.id);
  await board.strategy.factoryReset({ image: v1 });
  const session = new Session(board, await SmpLink.connect(board), emulatedNrf(board));
  sessions.set(board.id, session);
  return session;
}

export function slotBytes(dev: Nrf52840Inspect, slot: 0 | 1, length: number): Uint8Array {
  return dev.slot(slot, length);
}

export function trailers(dev: Nrf52840Inspect): { primary: TrailerState; secondary: TrailerState } {
  return dev.trailers();
}
