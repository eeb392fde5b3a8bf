/**
 * Interop results in the qualification matrix: each test is labelled with an "interop" rig,
 * the emulated board behind USB/IP, the independent client that drove it (dfu-util, or our
 * DfuClient through the real kernel), and the document clauses it checks. The matrix then
 * shows a column per client, so a clause passing both in-process and through dfu-util reads
 * as such.
 */
import * as allure from "allure-js-commons";
import type Mocha from "mocha";
import { clause } from "../harness/report/clause.js";

export const INTEROP_RIG = "interop (QEMU guest, USB/IP)";

/** Test title → the catalogued clauses (harness/report/clauses.yaml) it checks. */
export const INTEROP_CLAUSES: Readonly<Record<string, readonly string[]>> = {
  "downloads a DfuSe .dfu file; the emulator's flash holds it": [
    "UM0391 (DfuSe file format)",
    "AN3156 §5 (DfuSe download, leave)",
  ],
  "uploads it back byte for byte": ["DFU 1.1 Appendix A state table: dfuIDLE / DFU_UPLOAD"],
  "a download outside the memory map fails: Set Address Pointer refused (errTARGET after DNBUSY)": [
    "DFU 1.1 §6.1.2 errTARGET",
    "AN3156 §5 (first GETSTATUS is dfuDNBUSY)",
  ],
  "a write the memory refuses (16 bytes into the 40-byte option-byte block): dfu-util prints the emulator's errTARGET":
    ["AN3156 §5.1 (Write memory: errTARGET for an unsupported address)"],
  "downloads a .bin with -s 0x08000000:leave; the board leaves into the application": ["AN3156 §5.5 (leave)"],
  "re-enumerates as the application: the import ends, the guest attaches 0483:5740": ["AN3156 §5.5 (leave)"],
  "full update and verify over the real kernel path; the client sees the application re-enumerate after leave":
    ["AN3156 §5 (DfuSe download, leave)"],
  "2-byte upload at 0xFFFF0054 (AN5185 Table 19 GET_STATE) returns the emulator's FUS state": [
    "AN5185 Table 19",
  ],
};

/** Labels the running test; call first in a beforeEach. */
export async function labelInteropResult(
  ctx: Mocha.Context,
  board: { id: string; family: string; client: string },
): Promise<void> {
  await allure.labels(
    { name: "rig", value: INTEROP_RIG },
    { name: "board", value: `${board.id} via ${board.client}` },
    { name: "family", value: board.family },
    { name: "client", value: board.client },
  );
  const refs = INTEROP_CLAUSES[ctx.currentTest?.title ?? ""];
  if (refs) await clause(...refs);
}
