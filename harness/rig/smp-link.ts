/**
 * A board's SMP link (mcumgr over the console UART or the nRF52840's own USB CDC ACM),
 * emulated or on a lab rack: the same SmpClient code runs over either.
 *
 * - Emulated: the emulator's host end of its line (it lives behind the DK's interface MCU,
 *   so it survives the nRF52840's resets), on the board's virtual clock.
 * - Lab: the port found by identity through the board's locator (by-id link or USB serial
 *   number), opened 115200 8N1 (or the rig file's baud rate).
 *
 * After every reset (SMP `os reset`, the rig's reset line, a power cycle) the old port is
 * closed and never reused: a USB CDC port vanishes and re-enumerates, possibly at another
 * /dev/ttyACMn. {@link SmpLink.afterReset} waits for the old port to go, finds the port
 * again, and waits until the application answers an echo. A port still there is opened and
 * asked at once: one that stays (a DK's interface MCU) holds the line, so the wait for it
 * to go ends there and the timed reset is the reset. A board that does not come back is an
 * InfrastructureError with what was seen.
 */
import { operation } from "../clients/operation.js";
import { SmpClient, type SmpClientOptions, SmpTimeoutError } from "../clients/smp/index.js";
import { resetTitle, swapPending, swapSectors } from "../clients/smp/swap-ahead.js";
import { InfrastructureError } from "../lab/errors.js";
import { listByIdEntries } from "../lab/locate.js";
import type { ByteStream } from "../transport/byte-stream.js";
import { StreamClosedError } from "../transport/errors.js";
import type { Board } from "./board.js";
import { trackBoardLink } from "./board-links.js";
import { openBoardSerial } from "./serial-link.js";

export const SMP_BAUD = 115200;

export interface SmpLinkOptions {
  /** Options of every client the link makes (timeouts, retries, MTU). */
  client?: SmpClientOptions;
  /**
   * Longest wait after a reset for the application to answer: the bootloader may swap a
   * whole slot first (nRF52840: 118 pages × 3 erases × 85 ms ≈ 30 s). Default 60 s.
   */
  bootMs?: number;
  /**
   * How long the old port may take to vanish after a reset; a port found to stay (it holds
   * the line through an echo, as a DK's does) ends the wait at once. Default 1 s.
   */
  goneWithinMs?: number;
  /** Timeout of one readiness echo. Default 500 ms. */
  probeMs?: number;
  /**
   * How long the application keeps running after answering `os reset` (Zephyr
   * CONFIG_MCUMGR_GRP_OS_RESET_MS, 250 ms by default); readiness is asked only after it,
   * or the old application would answer. Default 300 ms.
   */
  resetDelayMs?: number;
  /**
   * Flash sector size a swap moves, for the reset's units of work: the rig file's
   * `info.flash-page`, else the nRF52840's 4 KB page.
   */
  sectorBytes?: number;
}

/** The nRF52840's flash page, which MCUboot swaps one at a time. */
const NRF52840_SECTOR_BYTES = 4096;

export class SmpLink {
  #stream: ByteStream;
  #client: SmpClient;
  #path: string | undefined;
  readonly #opts: SmpLinkOptions;
  /** The last image uploaded through any of the link's clients: what a pending swap moves. */
  #uploadedBytes: number | undefined;

  private constructor(
    readonly board: Board,
    opened: { stream: ByteStream; path: string | undefined },
    opts: SmpLinkOptions,
  ) {
    this.#opts = opts;
    this.#stream = opened.stream;
    this.#path = opened.path;
    this.#client = this.#newClient();
  }

  /** Opens the board's SMP port as it is now (lab: found by identity, waiting up to the enumeration timeout). */
  static async open(board: Board, opts: SmpLinkOptions = {}): Promise<SmpLink> {
    return new SmpLink(board, await openPort(board), opts);
  }

  /** Opens the port and waits until the application answers ({@link ready}). */
  static async connect(board: Board, opts: SmpLinkOptions = {}): Promise<SmpLink> {
    const link = await SmpLink.open(board, opts);
    await link.ready();
    return link;
  }

  /** The client on the current port; a new one after every reset. */
  get client(): SmpClient {
    return this.#client;
  }

  get stream(): ByteStream {
    return this.#stream;
  }

  /** The port path opened last (lab), undefined on an emulated board. */
  get path(): string | undefined {
    return this.#path;
  }

  /**
   * `os reset` over SMP, then {@link afterReset}: one timed operation from the request until
   * the application answers again, titled by what MCUboot does meanwhile as far as the last
   * image state read tells ("reset and swap 24 sectors", or "reset and boot"). Its precision
   * is the readiness probe's (`probeMs`): the application says nothing when it is back.
   */
  async reset(): Promise<SmpClient> {
    const old = this.#client;
    this.#uploadedBytes = old.lastUploadBytes ?? this.#uploadedBytes;
    const sectorBytes =
      this.#opts.sectorBytes ?? (Number(this.board.info?.["flash-page"]) || NRF52840_SECTOR_BYTES);
    const swap =
      swapPending(old.lastImages) && this.#uploadedBytes !== undefined
        ? { sectors: swapSectors(this.#uploadedBytes, sectorBytes) }
        : undefined;
    // Without a state read since the last reset (or an upload to size it) the reset is not classed.
    const title =
      old.lastImages === undefined
        ? "reset, image state unread"
        : swapPending(old.lastImages) && !swap
          ? "reset with a swap of unknown size"
          : resetTitle(swap);
    return operation({ kind: "smp", transcript: old.transcript }, title, async () => {
      await old.reset();
      await this.board.clock.sleep(this.#opts.resetDelayMs ?? 300);
      return this.afterReset();
    });
  }

  /**
   * After the board reset (or power came back): closes the old port, finds the port again
   * and waits until the application answers. Returns the new client.
   * @throws {InfrastructureError} when the port or the application does not come back in time.
   */
  async afterReset(): Promise<SmpClient> {
    const oldPath = this.#path;
    await this.#closePort();
    if (this.board.locator && oldPath !== undefined && (await this.#waitGone(oldPath)) === "answered")
      return this.#client;
    return this.ready();
  }

  /**
   * Waits until the application answers an echo, (re)opening the port when it is closed.
   * @throws {InfrastructureError} when the port or the application does not come in time.
   */
  async ready(): Promise<SmpClient> {
    const { board } = this;
    const clock = board.clock;
    const bootMs = this.#opts.bootMs ?? 60_000;
    const deadline = clock.now() + bootMs;
    let attempts = 0;
    let lastProblem = "no attempt";
    while (clock.now() < deadline) {
      if (this.#stream.closed) {
        try {
          const opened = await openPort(board, Math.max(1, deadline - clock.now()));
          this.#stream = opened.stream;
          this.#path = opened.path;
        } catch (e) {
          // Found but not openable yet (EBUSY right after enumeration, gone again): look again.
          if (!(e instanceof PortOpenError)) throw e;
          lastProblem = e.message;
          await clock.sleep(100);
          continue;
        }
      }
      this.#client = this.#newClient();
      attempts++;
      try {
        await this.#probe();
        return this.#client;
      } catch (e) {
        if (e instanceof SmpTimeoutError) lastProblem = `echo unanswered (${e.message})`;
        else if (e instanceof StreamClosedError) {
          // The port went away under us (the old enumeration vanishing late): find it again.
          lastProblem = `port closed: ${e.message}`;
          await this.#closePort();
        } else throw e;
      }
    }
    const seen = board.locator ? await listByIdEntries() : [];
    throw new InfrastructureError(
      `board ${board.id}: the application did not answer SMP echo within ${bootMs} ms ` +
        `(${attempts} attempt(s) on ${this.#path ?? this.#stream.name}; last: ${lastProblem})` +
        (board.locator ? `; serial ports by id: ${seen.length ? seen.join(", ") : "none"}` : ""),
    );
  }

  /** Closes a lab port; an emulated board's line stays (it is the board's own). */
  async close(): Promise<void> {
    await this.#closePort();
  }

  #newClient(): SmpClient {
    return new SmpClient(this.#stream, this.board.clock, this.#opts.client);
  }

  async #probe(): Promise<void> {
    const probe = new SmpClient(this.#stream, this.board.clock, {
      ...this.#opts.client,
      timeoutMs: this.#opts.probeMs ?? 500,
      retries: 0,
    });
    await probe.echo("hil ready?");
    // Whatever the probe left behind (a late duplicate answer) must not confuse the client.
    this.#stream.readAvailable();
  }

  async #closePort(): Promise<void> {
    if (this.board.locator) await this.#stream.close();
    else this.#stream.readAvailable();
  }

  /**
   * Gives the old enumeration a moment to vanish, so the old device is not found again. A
   * port still there is opened and asked ({@link #stays}): one that stays ends the wait at
   * once, left open, "answered" when the application is already back; one on its way out
   * fails to open or closes under the echo, and the wait goes on.
   */
  async #waitGone(path: string): Promise<"gone" | "stays" | "answered" | "timeout"> {
    const clock = this.board.clock;
    const until = clock.now() + (this.#opts.goneWithinMs ?? 1000);
    while (clock.now() < until) {
      const { serialPort } = await this.board.locator!.present();
      if (serialPort !== path) return "gone";
      const stays = await this.#stays(Math.max(1, until - clock.now()));
      if (stays) return stays;
      await clock.sleep(50);
    }
    return "timeout";
  }

  /**
   * Opens the port and sends one readiness echo. An answer: the application is back on a
   * port that stayed. Silence on a line that is still open after the echo's timeout: the
   * port stayed (a vanishing USB port closes under it first) and the application is not back
   * yet; the port is left open for {@link ready}. A port that will not open or closes: it is
   * going; undefined.
   */
  async #stays(openWithinMs: number): Promise<"stays" | "answered" | undefined> {
    try {
      const opened = await openPort(this.board, openWithinMs);
      this.#stream = opened.stream;
      this.#path = opened.path;
    } catch (e) {
      if (e instanceof InfrastructureError) return undefined;
      throw e;
    }
    this.#client = this.#newClient();
    try {
      await this.#probe();
      return "answered";
    } catch (e) {
      if (e instanceof SmpTimeoutError && !this.#stream.closed) return "stays";
      if (!(e instanceof SmpTimeoutError) && !(e instanceof StreamClosedError)) throw e;
      await this.#closePort();
      return undefined;
    }
  }
}

async function openPort(
  board: Board,
  timeoutMs?: number,
): Promise<{ stream: ByteStream; path: string | undefined }> {
  if (board.emulator) return { stream: board.emulator.port("console"), path: undefined };
  if (!board.locator) throw new Error(`board ${board.id}: a lab board without a locator`);
  const remote = board.locator.remoteSerial !== undefined;
  const { stream, path } = await openBoardSerial(board, {
    baudRate: board.serialPort?.baudRate ?? SMP_BAUD,
    parity: "none",
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  }).catch((e: Error) => {
    // A local port that would not open yet, or a rack host's port that is not back yet
    // (ser2net refuses while the board's USB port re-enumerates): both looked at again.
    if (remote || !(e instanceof InfrastructureError))
      throw new PortOpenError(remote ? e.message : `board ${board.id}: ${e.message}`, { cause: e });
    throw e;
  });
  // A suite's SMP session serves all of a board's tests (reopened after each reset).
  return { stream: trackBoardLink(board.id, stream, "board"), path };
}

/** The port was found but would not open. */
class PortOpenError extends InfrastructureError {}
