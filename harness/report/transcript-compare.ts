/**
 * Two recordings of one scenario side by side, for `hil replay`: where they first part. On an
 * emulated board the same seed and faults must give the same transcript entry for entry, times
 * included (the virtual clock); a lab board's times always vary, so there only what went over
 * the wire and what the client noted counts.
 */
import { Transcript, type TranscriptJson } from "../transport/transcript.js";

export interface TranscriptDifference {
  /** 0-based index of the first entry that differs. */
  readonly index: number;
  /** That entry in each recording, one line; "(end, N entries)" past the end of one. */
  readonly was: string;
  readonly now: string;
}

type JsonEntry = TranscriptJson["entries"][number];

/** The first entry where `now` parts from `was`, or undefined when they match. */
export function firstDifference(
  was: TranscriptJson,
  now: TranscriptJson,
  opts: { times: boolean },
): TranscriptDifference | undefined {
  const key = (e: JsonEntry): string => {
    const { t, ...rest } = e;
    return canonical(opts.times ? { t, ...rest } : rest);
  };
  const length = Math.max(was.entries.length, now.entries.length);
  for (let i = 0; i < length; i++) {
    const a = was.entries[i];
    const b = now.entries[i];
    if (a && b && key(a) === key(b)) continue;
    return { index: i, was: describe(a, was), now: describe(b, now) };
  }
  return undefined;
}

/** JSON with keys sorted at every level: field order is not a difference. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : v,
  );
}

/** One line: the entry's header as transcripts render it, and its first bytes. */
function describe(entry: JsonEntry | undefined, doc: TranscriptJson): string {
  if (!entry) return `(end, ${doc.entries.length} entries)`;
  const head = Transcript.fromJSON({ format: doc.format, entries: [entry] })
    .render()
    .split("\n")[0]!
    .trim();
  if (!entry.hex) return head;
  return `${head}: ${entry.hex.length > 48 ? `${entry.hex.slice(0, 48)}…` : entry.hex}`;
}
