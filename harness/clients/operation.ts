/**
 * One mechanism for client operations in reports. A client wraps each operation a person
 * would name ("open alt setting 0", "erase 12 pages", "download 37 blocks", "FUS poll ×14")
 * in {@link operation}; the clients know nothing about reporting. With no observer (benches,
 * the CLI) the body just runs. forEachBoard installs the Allure observer, which makes every
 * operation a timed step nested under the one that is open, and reports the client's
 * transcript with the running test.
 */
import type { Transcript } from "../transport/transcript.js";

/**
 * Who runs the operation: the kind of link ("dfu", "usart", "tkey", "smp") and the transcript
 * of its bytes. A client on top of another (FUS over DFU or USART) names the link beneath.
 */
export interface OperationSource {
  readonly kind: string;
  readonly transcript: Transcript;
}

/** What the body may do to its own step while it runs. */
export interface OperationHandle {
  /** The title once the outcome is known ("FUS poll ×14", "download 37 blocks (2 retries)"). */
  retitle(title: string): void;
  /** How far it got (bytes, blocks, chunks), for a progress display. */
  progress?(done: number, total: number): void;
  /**
   * The device asked the host to wait this long (a DFU bwPollTimeout): the timing report puts
   * what the board asked for beside what the operation took.
   */
  deviceWait?(ms: number): void;
}

/** An operation under way, as a progress display reads it. */
export interface OpenOperation {
  title: string;
  done: number;
  total: number;
  /** The observer's handle, once the operation runs (for {@link noteDeviceWait}). */
  handle?: OperationHandle;
}

const open: OpenOperation[] = [];

/** The operations under way, outermost first (a progress display samples this). */
export function openOperations(): readonly OpenOperation[] {
  return open;
}

export type OperationObserver = <T>(
  source: OperationSource,
  title: string,
  body: (op: OperationHandle) => Promise<T>,
) => Promise<T>;

const UNOBSERVED: OperationHandle = { retitle() {} };

function close(entry: OpenOperation): void {
  const at = open.lastIndexOf(entry);
  if (at >= 0) open.splice(at, 1);
}

let observer: OperationObserver | undefined;

/** Installs (or with undefined removes) the observer every client operation goes through. */
export function observeOperations(next: OperationObserver | undefined): void {
  observer = next;
}

/** The observer installed now (a test that installs its own puts this one back). */
export function operationObserver(): OperationObserver | undefined {
  return observer;
}

/** Runs `body` as the named operation of `source`. */
export function operation<T>(
  source: OperationSource,
  title: string,
  body: (op: OperationHandle) => Promise<T>,
): Promise<T> {
  const entry: OpenOperation = { title, done: 0, total: 0 };
  open.push(entry);
  const run = (outer: OperationHandle) => {
    entry.handle = outer;
    return body({
      retitle(t) {
        entry.title = t;
        outer.retitle(t);
      },
      progress(done, total) {
        entry.done = done;
        entry.total = total;
      },
    });
  };
  let result: Promise<T>;
  try {
    result = observer ? observer(source, title, run) : run(UNOBSERVED);
  } catch (e) {
    close(entry);
    throw e;
  }
  return result.finally(() => close(entry));
}

/**
 * A wait the device asked for (DFU bwPollTimeout), counted to every operation under way: the
 * "erase 12 pages" it happened in and the "download 24576 bytes" around it.
 */
export function noteDeviceWait(ms: number): void {
  for (const entry of open) entry.handle?.deviceWait?.(ms);
}

/** "1 page" / "12 pages": step titles read as a person would write them. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
