/**
 * What may differ between a lab board and its emulated twin without being a divergence, per
 * protocol, in one place. A lab transcript is on wall time, chunked as the serial driver
 * delivered it, names the board's port and carries its serial number and UID; the twin's is
 * on virtual time, over an in-memory link, with the emulator's serial. Each rule masks one
 * such thing and says why; test/report/twin-normalise.spec.ts has a test per rule.
 */
import { BM_REQUEST_TYPE_IN, DfuRequest } from "../protocol/dfu/requests.js";
import type { TranscriptJson } from "../transport/transcript.js";

type JsonEntry = TranscriptJson["entries"][number];

/** One entry as compared: no time; `link` is the client's kind ("usart", "dfu", ...). */
export interface NormalEntry {
  readonly link: string;
  readonly dir: JsonEntry["dir"];
  readonly hex?: string;
  readonly note?: string;
  readonly setup?: JsonEntry["setup"];
  readonly status?: JsonEntry["status"];
  /** Index of the (first) recorded entry it came from, for showing the exchange; not compared. */
  readonly at: number;
}

export interface NormalisationRule {
  readonly name: string;
  /** Why it is masked: what differs between a lab board and its twin for no fault of either. */
  readonly why: string;
  apply(entries: readonly NormalEntry[]): NormalEntry[];
}

/** Masked bytes read as this, in hex strings ("uid" bytes become "xx"). */
const MASK = "xx";
const maskHex = (hex: string, fromByte: number, toByte = hex.length / 2): string =>
  hex.slice(0, fromByte * 2) + MASK.repeat(Math.max(0, toByte - fromByte)) + hex.slice(toByte * 2);
const bytesOf = (hex: string | undefined): number[] =>
  hex === undefined ? [] : (hex.match(/../g) ?? []).map((h) => Number.parseInt(h, 16));

/** Milliseconds in a client note ("timeout after 1000 ms", "within 250 ms"). */
const MS = /\b\d+(?:\.\d+)?\s?ms\b/g;

const timing: NormalisationRule = {
  name: "timing",
  why: "lab times are wall time, the twin's virtual: durations in notes are masked (entry times are never compared)",
  apply: (entries) =>
    entries.map((e) => (e.note === undefined ? e : { ...e, note: e.note.replace(MS, "<ms> ms") })),
};

/** Notes about the link itself, not the protocol: their wording names the port. */
const LINK_EVENT = /( closed: | disconnected: |^flush |^signals )/;

const linkEvents: NormalisationRule = {
  name: "link events",
  why: "opening, closing, flushing and DTR/RTS lines of a serial port name the port and have no twin on an in-memory link",
  apply: (entries) =>
    entries.filter((e) => !(e.dir === "event" && e.note !== undefined && LINK_EVENT.test(e.note))),
};

const chunking: NormalisationRule = {
  name: "chunking",
  why: "a serial driver hands over bytes in chunks of its own choosing: adjacent bytes in one direction are one exchange",
  apply: (entries) => {
    const out: NormalEntry[] = [];
    for (const e of entries) {
      const last = out[out.length - 1];
      const joinable = (x: NormalEntry) =>
        (x.dir === "tx" || x.dir === "rx") && x.hex !== undefined && x.note === undefined;
      if (last && last.link === e.link && last.dir === e.dir && joinable(last) && joinable(e))
        out[out.length - 1] = { ...last, hex: `${last.hex}${e.hex}` };
      else out.push(e);
    }
    return out;
  },
};

/** STM32L4 / WB 96-bit unique ID (RM0394 §47.1, RM0434 §38.1): 12 bytes at 0x1FFF7590. */
const STM32_UID = { start: 0x1fff7590, end: 0x1fff7590 + 12 };

const usartUid: NormalisationRule = {
  name: "usart uid",
  why: "Read Memory of the 96-bit unique ID returns each part's own UID; the twin has another",
  apply: (entries) => {
    const out = [...entries];
    for (let i = 0; i < out.length; i++) {
      const cmd = bytesOf(out[i]!.hex);
      if (out[i]!.dir !== "tx" || cmd[0] !== 0x11 || cmd[1] !== 0xee) continue;
      // Then: ACK, 4 address bytes + checksum, ACK, N−1 + complement, ACK + N data bytes.
      const addrAt = out.findIndex((e, k) => k > i && e.dir === "tx");
      const a = bytesOf(out[addrAt]?.hex);
      if (a.length !== 5) continue;
      const address = ((a[0]! << 24) | (a[1]! << 16) | (a[2]! << 8) | a[3]!) >>> 0;
      if (address < STM32_UID.start - 255 || address >= STM32_UID.end) continue;
      const countAt = out.findIndex((e, k) => k > addrAt && e.dir === "tx");
      const dataAt = out.findIndex((e, k) => k > countAt && e.dir === "rx" && e.hex !== undefined);
      const data = out[dataAt];
      if (countAt < 0 || !data?.hex) continue;
      // The data follows an ACK byte; bytes outside the UID keep their value.
      const skip = bytesOf(data.hex)[0] === 0x79 ? 1 : 0;
      const from = skip + Math.max(0, STM32_UID.start - address);
      const to = Math.min(data.hex.length / 2, skip + STM32_UID.end - address);
      out[dataAt] = { ...data, hex: maskHex(data.hex, from, to) };
    }
    return out;
  },
};

/** USB 2.0 §9.4: GET_DESCRIPTOR. */
const GET_DESCRIPTOR = 6;

const isGetDescriptor = (e: NormalEntry, type: number) =>
  e.dir === "ctrl-in" &&
  e.setup?.bmRequestType === 0x80 &&
  e.setup.bRequest === GET_DESCRIPTOR &&
  e.setup.wValue >> 8 === type;

const usbSerial: NormalisationRule = {
  name: "usb serial number",
  why: "the serial number string (iSerialNumber of the device descriptor) and the handle a re-enumeration names are the unit's own",
  apply: (entries) => {
    let iSerial: number | undefined;
    return entries.map((e) => {
      if (isGetDescriptor(e, 1)) {
        const b = bytesOf(e.hex);
        if (b.length >= 17) iSerial = b[16];
        return e;
      }
      if (
        isGetDescriptor(e, 3) &&
        iSerial !== undefined &&
        iSerial !== 0 &&
        (e.setup!.wValue & 0xff) === iSerial
      )
        return e.hex === undefined ? e : { ...e, hex: maskHex(e.hex, 2) };
      if (e.note?.startsWith("re-enumerated: new handle"))
        return { ...e, note: "re-enumerated: new handle <serial>" };
      return e;
    });
  },
};

const dfuPollTimeout: NormalisationRule = {
  name: "dfu bwPollTimeout",
  why: "GETSTATUS bwPollTimeout is the part's own flash timing (a later timing comparison reads it), not protocol",
  apply: (entries) =>
    entries.map((e) =>
      e.dir === "ctrl-in" &&
      e.setup?.bmRequestType === BM_REQUEST_TYPE_IN &&
      e.setup.bRequest === DfuRequest.GETSTATUS &&
      e.hex &&
      e.hex.length >= 12
        ? { ...e, hex: maskHex(e.hex, 1, 4) }
        : e,
    ),
};

const isGetStatus = (e: NormalEntry) =>
  e.dir === "ctrl-in" &&
  e.setup?.bmRequestType === BM_REQUEST_TYPE_IN &&
  e.setup.bRequest === DfuRequest.GETSTATUS;

const dfuBusyStalls: NormalisationRule = {
  name: "dfu busy stalls",
  why: "how many GETSTATUS polls stall while an L4 erase runs depends on when the host polls (wall time against virtual): a run of stalls is one",
  apply: (entries) =>
    entries.filter((e, i) => {
      const before = entries[i - 1];
      return !(
        isGetStatus(e) &&
        e.status === "stall" &&
        before !== undefined &&
        before.link === e.link &&
        isGetStatus(before) &&
        before.status === "stall"
      );
    }),
};

/** FW_RSP_GET_UDI (0x09): header, response code, status, then the 8-byte UDI. */
const tkeyUdi: NormalisationRule = {
  name: "tkey udi",
  why: "the UDI carries the key's serial number; the twin's is the emulator's",
  apply: (entries) =>
    entries.map((e) => {
      const b = bytesOf(e.hex);
      return e.dir === "rx" && b[1] === 0x09 && b.length >= 11 && e.hex
        ? { ...e, hex: maskHex(e.hex, 3, 11) }
        : e;
    }),
};

/** SMP (MCUmgr) image state: per-image hash of what a unit signed and installed. */
const smpKeys: NormalisationRule = {
  name: "smp hashes and keys",
  why: "a lab board's images are signed with the lab's key and hashed per build: hash and key fields in notes are masked",
  apply: (entries) =>
    entries.map((e) =>
      e.note === undefined
        ? e
        : { ...e, note: e.note.replace(/\b(hash|key)([=:]\s?)[0-9a-fA-F]{16,}/g, "$1$2<masked>") },
    ),
};

/** The rules every link gets, then each protocol's own, in the order they apply. */
export const NORMALISATION: Readonly<Record<string, readonly NormalisationRule[]>> = {
  common: [linkEvents, timing, chunking],
  usart: [usartUid],
  dfu: [usbSerial, dfuPollTimeout, dfuBusyStalls],
  tkey: [tkeyUdi],
  smp: [smpKeys],
};

/** A recorded segment: the client kind and the entries of its transcript the test produced. */
export interface TranscriptSegment {
  readonly link: string;
  readonly entries: readonly JsonEntry[];
}

/** The segments of one test as one normalised sequence (each segment by its link's rules). */
export function normalise(segments: readonly TranscriptSegment[]): NormalEntry[] {
  const out: NormalEntry[] = [];
  let offset = 0;
  for (const seg of segments) {
    let entries: NormalEntry[] = seg.entries.map((e, i) => {
      const { t: _t, ...rest } = e;
      return { ...rest, link: seg.link, at: offset + i };
    });
    for (const rule of [...(NORMALISATION.common ?? []), ...(NORMALISATION[seg.link] ?? [])])
      entries = rule.apply(entries);
    out.push(...entries);
    offset += seg.entries.length;
  }
  return out;
}
