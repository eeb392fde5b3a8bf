/**
 * Hex helpers for transcripts: compact hex for JSON, and the classic offset/hex/ASCII
 * dump (16 bytes a line, a gap after 8) for reading a failed exchange by eye.
 */

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** @throws {TypeError} when `hex` is not an even-length string of hex digits. */
export function fromHex(hex: string): Uint8Array {
  if (typeof hex !== "string" || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new TypeError(`"hex" expected an even number of hex digits, got ${JSON.stringify(hex)}`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export interface HexDumpOptions {
  /** Prefix of every line (default 4 spaces). */
  indent?: string;
  /**
   * Long dumps keep their first `headLines` and last `tailLines` lines (defaults 4 and 2)
   * and replace the middle with a byte count. `elide: false` prints everything.
   */
  elide?: boolean;
  headLines?: number;
  tailLines?: number;
}

const BYTES_PER_LINE = 16;

/** One string per line; no lines for an empty array. */
export function hexDump(bytes: Uint8Array, opts: HexDumpOptions = {}): string[] {
  const indent = opts.indent ?? "    ";
  const head = opts.headLines ?? 4;
  const tail = opts.tailLines ?? 2;
  const lineCount = Math.ceil(bytes.length / BYTES_PER_LINE);
  const offsetWidth = Math.max(4, Math.max(0, bytes.length - 1).toString(16).length);
  const line = (i: number) => indent + dumpLine(bytes, i * BYTES_PER_LINE, offsetWidth);

  // Eliding a single line would save nothing, so only elide when at least two would go.
  if (opts.elide === false || lineCount <= head + tail + 1) {
    return Array.from({ length: lineCount }, (_, i) => line(i));
  }
  const firstTail = lineCount - tail;
  const elided = firstTail * BYTES_PER_LINE - head * BYTES_PER_LINE;
  return [
    ...Array.from({ length: head }, (_, i) => line(i)),
    `${indent}... ${elided} bytes elided ...`,
    ...Array.from({ length: tail }, (_, i) => line(firstTail + i)),
  ];
}

function dumpLine(bytes: Uint8Array, offset: number, offsetWidth: number): string {
  const chunk = bytes.subarray(offset, offset + BYTES_PER_LINE);
  let hex = "";
  let ascii = "";
  chunk.forEach((b, i) => {
    hex += (i === 0 ? "" : i === 8 ? "  " : " ") + b.toString(16).padStart(2, "0");
    ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".";
  });
  // 16 bytes print as 47 hex characters plus the gap after 8: pad short lines to 48.
  return `${offset.toString(16).padStart(offsetWidth, "0")}  ${hex.padEnd(48)}  |${ascii}|`;
}
