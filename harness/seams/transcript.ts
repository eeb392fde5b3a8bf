/**
 * The shape of a transcript entry: what went over the wire and when. Protocol annotators
 * read entries, transports write them, the USB/IP codec decodes the same SETUP packet;
 * the Transcript class that records them is in harness/transport/transcript.ts.
 */

/** tx/ctrl-out: host to device; rx/ctrl-in: device to host; event: a note with no bytes on the wire. */
export type TranscriptDir = "tx" | "rx" | "event" | "ctrl-out" | "ctrl-in";

/** The 8-byte USB SETUP packet, field names as in USB 2.0 §9.3 (little-endian on the wire). */
export interface SetupPacket {
  bmRequestType: number;
  bRequest: number;
  wValue: number;
  wIndex: number;
  wLength: number;
}

/** WebUSB transfer statuses, plus "error" when the transfer threw (device gone, timeout). */
export type TransferStatus = "ok" | "stall" | "babble" | "error";

export interface TranscriptEntry {
  /** Clock milliseconds when recorded. */
  t: number;
  dir: TranscriptDir;
  bytes?: Uint8Array;
  note?: string;
  /** Control transfers only. */
  setup?: SetupPacket;
  status?: TransferStatus;
}

/**
 * Reads an entry in the protocol's terms ("DNLOAD blk=37 len=2048", "GETSTATUS dfuDNBUSY
 * poll=22ms"); `follows` chains it onto the line of the entry before (a reply onto its
 * request). Set by the client that knows the protocol; used only when rendering.
 */
export type TranscriptAnnotator = (entry: TranscriptEntry) => { text: string; follows?: boolean } | undefined;
