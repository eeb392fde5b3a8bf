/**
 * The emulated nRF52840's SMP console on a real pty, in one of the two ways a lab sees it:
 * - `uart` (nRF52840 DK): the console UART goes through the interface MCU's USB CDC port,
 *   which stays while the nRF52840 resets; bytes sent meanwhile are lost.
 * - `usb-cdc` (the nRF52840's own USB, Zephyr CDC ACM; the nRF52840 Dongle): the port
 *   exists only while the application runs. It vanishes at every reset or power-off and
 *   comes back, on a new /dev/pts/N behind the same link, once the application is up, as
 *   a re-enumerating USB device does under /dev/serial/by-id.
 */
import type { Nrf52840McubootDevice } from "../devices/nrf52840-mcuboot/device.js";
import type { Clock } from "../transport/clock.js";
import { type PtyBridge, servePty } from "./uart-pty.js";

export type ConsoleKind = "uart" | "usb-cdc";

export interface ServedConsole {
  readonly link: string;
  /** The pty behind the link now; undefined while a usb-cdc port is away. */
  readonly pty: string | undefined;
  /** How many times the port (re)appeared. */
  readonly enumerations: number;
  /** Resolves when socat exits on its own (not through close or a usb-cdc reset). */
  readonly lost: Promise<void>;
  /** Resolves once the port is there the first time (at once for uart; usb-cdc: once the application or recovery runs). */
  readonly appeared: Promise<void>;
  close(): Promise<void>;
}

export async function serveNrf52840Console(
  device: Nrf52840McubootDevice,
  link: string,
  clock: Clock,
  kind: ConsoleKind = "uart",
): Promise<ServedConsole> {
  let bridge: PtyBridge | undefined;
  let enumerations = 0;
  let closed = false;
  let signalLost: () => void = () => {};
  const lost = new Promise<void>((resolve) => {
    signalLost = resolve;
  });
  let signalAppeared: () => void = () => {};
  const appeared = new Promise<void>((resolve) => {
    signalAppeared = resolve;
  });
  // Port changes run one after another: a reset can end before its pty is up.
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (work: () => Promise<void>) => {
    queue = queue.then(work).catch(() => {});
    return queue;
  };

  const attach = async () => {
    if (bridge || closed) return;
    const b = await servePty(link, clock);
    bridge = b;
    enumerations++;
    signalAppeared();
    b.line.onData(
      (bytes) =>
        void device
          .port("console")
          .write(bytes)
          .catch(() => {}),
    );
    void b.exited.then(() => {
      if (bridge === b && !closed) signalLost();
    });
  };
  const detach = async () => {
    const b = bridge;
    bridge = undefined;
    await b?.close();
  };

  const stopForwarding = device
    .port("console")
    .onData((bytes) => void bridge?.line.write(bytes).catch(() => {}));
  const unsubscribe =
    kind === "usb-cdc"
      ? device.onState((state) => {
          if (state === "running" || state === "recovery") void enqueue(attach);
          else void enqueue(detach);
        })
      : () => {};
  if (kind === "uart" || device.state === "running" || device.state === "recovery") await enqueue(attach);

  return {
    link,
    get pty() {
      return bridge?.pty;
    },
    get enumerations() {
      return enumerations;
    },
    lost,
    appeared,
    close: async () => {
      closed = true;
      unsubscribe();
      stopForwarding();
      await enqueue(detach);
    },
  };
}
