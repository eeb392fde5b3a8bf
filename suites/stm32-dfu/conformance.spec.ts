import { expect } from "chai";
import type { DfuClient } from "../../harness/clients/dfu/index.js";
import { type Board, covers, forEachBoard, getRig } from "../../harness/index.js";
import {
  DfuRequest,
  DfuState,
  DfuStatus,
  encodeDfuseCommand,
  stateName,
} from "../../harness/protocol/dfu/index.js";
import { connect, DFU_FAMILIES, profile, startInBootloader } from "./fixture.js";

/**
 * Every row of the DFU 1.1 state table (Appendix A) that a DFU-mode device has, against the
 * board: from each state, each request either does what the table says or stalls into
 * dfuERROR with errSTALLEDPKT. appIDLE/appDETACH rows do not apply: the ROM has no run-time
 * DFU interface. The dfuDNBUSY row is checked as its timeout (bwPollTimeout elapses →
 * dfuDNLOAD-SYNC); dfuMANIFEST as the device leaving the bus.
 */
const rig = getRig();

type From =
  | "dfuIDLE"
  | "dfuDNLOAD-SYNC"
  | "dfuDNLOAD-IDLE"
  | "dfuMANIFEST-SYNC"
  | "dfuUPLOAD-IDLE"
  | "dfuERROR";
type Req =
  | "DNLOAD"
  | "DNLOAD(0)"
  | "UPLOAD"
  | "UPLOAD(short)"
  | "GETSTATUS"
  | "GETSTATE"
  | "CLRSTATUS"
  | "ABORT"
  | "DETACH";
type Outcome = { to: DfuState } | "stall" | "leaves";

const ROWS: [From, Req, Outcome][] = [
  ["dfuIDLE", "DNLOAD", { to: DfuState.dfuDNLOAD_SYNC }],
  ["dfuIDLE", "DNLOAD(0)", "leaves"], // DfuSe: leave is accepted in dfuIDLE too (AN3156 §5.5)
  ["dfuIDLE", "UPLOAD", { to: DfuState.dfuUPLOAD_IDLE }],
  ["dfuIDLE", "UPLOAD(short)", { to: DfuState.dfuIDLE }],
  ["dfuIDLE", "ABORT", { to: DfuState.dfuIDLE }],
  ["dfuIDLE", "GETSTATUS", { to: DfuState.dfuIDLE }],
  ["dfuIDLE", "GETSTATE", { to: DfuState.dfuIDLE }],
  ["dfuIDLE", "CLRSTATUS", "stall"],
  ["dfuIDLE", "DETACH", "stall"],
  ["dfuDNLOAD-SYNC", "GETSTATUS", { to: DfuState.dfuDNBUSY }],
  ["dfuDNLOAD-SYNC", "GETSTATE", { to: DfuState.dfuDNLOAD_SYNC }],
  ["dfuDNLOAD-SYNC", "DNLOAD", "stall"],
  ["dfuDNLOAD-SYNC", "UPLOAD", "stall"],
  ["dfuDNLOAD-SYNC", "ABORT", "stall"],
  ["dfuDNLOAD-SYNC", "CLRSTATUS", "stall"],
  ["dfuDNLOAD-SYNC", "DETACH", "stall"],
  ["dfuDNLOAD-IDLE", "DNLOAD", { to: DfuState.dfuDNLOAD_SYNC }],
  ["dfuDNLOAD-IDLE", "DNLOAD(0)", "leaves"],
  ["dfuDNLOAD-IDLE", "ABORT", { to: DfuState.dfuIDLE }],
  ["dfuDNLOAD-IDLE", "GETSTATUS", { to: DfuState.dfuDNLOAD_IDLE }],
  ["dfuDNLOAD-IDLE", "GETSTATE", { to: DfuState.dfuDNLOAD_IDLE }],
  ["dfuDNLOAD-IDLE", "UPLOAD", "stall"],
  ["dfuDNLOAD-IDLE", "CLRSTATUS", "stall"],
  ["dfuDNLOAD-IDLE", "DETACH", "stall"],
  ["dfuMANIFEST-SYNC", "GETSTATE", { to: DfuState.dfuMANIFEST_SYNC }],
  ["dfuMANIFEST-SYNC", "GETSTATUS", "leaves"], // → dfuMANIFEST, manifestation intolerant: off the bus
  ["dfuMANIFEST-SYNC", "DNLOAD", "stall"],
  ["dfuMANIFEST-SYNC", "UPLOAD", "stall"],
  ["dfuMANIFEST-SYNC", "ABORT", "stall"],
  ["dfuMANIFEST-SYNC", "CLRSTATUS", "stall"],
  ["dfuUPLOAD-IDLE", "UPLOAD", { to: DfuState.dfuUPLOAD_IDLE }],
  ["dfuUPLOAD-IDLE", "UPLOAD(short)", { to: DfuState.dfuIDLE }],
  ["dfuUPLOAD-IDLE", "ABORT", { to: DfuState.dfuIDLE }],
  ["dfuUPLOAD-IDLE", "GETSTATUS", { to: DfuState.dfuUPLOAD_IDLE }],
  ["dfuUPLOAD-IDLE", "GETSTATE", { to: DfuState.dfuUPLOAD_IDLE }],
  ["dfuUPLOAD-IDLE", "DNLOAD", "stall"],
  ["dfuUPLOAD-IDLE", "CLRSTATUS", "stall"],
  ["dfuUPLOAD-IDLE", "DETACH", "stall"],
  ["dfuERROR", "CLRSTATUS", { to: DfuState.dfuIDLE }],
  ["dfuERROR", "GETSTATUS", { to: DfuState.dfuERROR }],
  ["dfuERROR", "GETSTATE", { to: DfuState.dfuERROR }],
  ["dfuERROR", "DNLOAD", "stall"],
  ["dfuERROR", "UPLOAD", "stall"],
  ["dfuERROR", "ABORT", "stall"],
  ["dfuERROR", "DETACH", "stall"],
];

/** Drives a freshly connected client (in dfuIDLE) into `from`. */
async function reach(board: Board, c: DfuClient, from: From): Promise<void> {
  const base = profile(board).flash.base;
  switch (from) {
    case "dfuIDLE":
      return;
    case "dfuDNLOAD-SYNC":
      expect(await c.dnload(0, encodeDfuseCommand({ kind: "set-address", address: base }))).to.equal("ok");
      return;
    case "dfuDNLOAD-IDLE":
      await c.setAddress(base);
      return;
    case "dfuMANIFEST-SYNC":
      expect(await c.dnload(0, new Uint8Array(0))).to.equal("ok");
      return;
    case "dfuUPLOAD-IDLE":
      await c.setAddress(base);
      await c.abort();
      expect(await c.uploadBlock(2, 1024)).to.have.length(1024);
      return;
    case "dfuERROR":
      expect(await c.requestOut(DfuRequest.CLRSTATUS)).to.equal("stall");
      return;
  }
}

/** Sends `req`; resolves with the transfer status (a vanished device counts as "gone"). */
async function send(board: Board, c: DfuClient, req: Req): Promise<"ok" | "stall" | "gone"> {
  const base = profile(board).flash.base;
  try {
    switch (req) {
      case "DNLOAD":
        return ok(await c.dnload(0, encodeDfuseCommand({ kind: "set-address", address: base })));
      case "DNLOAD(0)":
        return ok(await c.dnload(0, new Uint8Array(0)));
      case "UPLOAD":
        return (await c.uploadBlock(2, 1024)) === "stall" ? "stall" : "ok";
      case "UPLOAD(short)":
        // Get Commands (block 0) answers 4 bytes: a short frame.
        return (await c.uploadBlock(0, 64)) === "stall" ? "stall" : "ok";
      case "GETSTATUS": {
        const r = await c.requestIn(DfuRequest.GETSTATUS, 0, 6);
        if (r === "stall") return "stall";
        lastStatusState = r[4];
        return "ok";
      }
      case "GETSTATE":
        return (await c.requestIn(DfuRequest.GETSTATE, 0, 1)) === "stall" ? "stall" : "ok";
      case "CLRSTATUS":
        return ok(await c.requestOut(DfuRequest.CLRSTATUS));
      case "ABORT":
        return ok(await c.requestOut(DfuRequest.ABORT));
      case "DETACH":
        return ok(await c.requestOut(DfuRequest.DETACH, 255));
    }
  } catch (e) {
    if ((e as { kind?: string }).kind === "disconnected") return "gone";
    throw e;
  }
}

/** bState of the last GETSTATUS `send` made: the state the table names for a GETSTATUS row. */
let lastStatusState: number | undefined;

const ok = (s: USBTransferStatus) => (s === "ok" ? "ok" : "stall");

describe("stm32-dfu: conformance to the DFU 1.1 state table", () => {
  forEachBoard(rig, { family: [...DFU_FAMILIES], capabilities: ["usb-dfu"] }, (board) => {
    for (const [from, req, outcome] of ROWS) {
      const expected =
        outcome === "stall"
          ? "stall, dfuERROR errSTALLEDPKT"
          : outcome === "leaves"
            ? "leaves DFU (USB disconnect)"
            : stateName(outcome.to);
      covers(`DFU 1.1 Appendix A state table: ${from} / DFU_${req.replace(/\(.*\)/, "")}`);
      it(`${from} + ${req} → ${expected}`, async () => {
        await startInBootloader(board);
        const c = await connect(board);
        await reach(board, c, from);
        expect(await c.getState(), `reached ${from}`).to.equal(stateOf(from));
        const result = await send(board, c, req);
        if (outcome === "stall") {
          expect(result).to.equal("stall");
          const s = await c.getStatus();
          expect([s.status, s.state]).to.deep.equal([DfuStatus.errSTALLEDPKT, DfuState.dfuERROR]);
        } else if (outcome === "leaves") {
          if (result === "ok") {
            const s = await c.getStatus().catch((e: { kind?: string }) => e.kind);
            expect(
              s === "disconnected" || (typeof s === "object" && s.state === DfuState.dfuMANIFEST),
            ).to.equal(true);
            const after = await c.getStatus().catch((e: { kind?: string }) => e.kind);
            expect(after).to.be.oneOf(["disconnected", "stale"]);
          } else {
            expect(result).to.equal("gone");
          }
        } else {
          expect(result).to.equal("ok");
          // A GETSTATUS row's new state is the bState it answered (dfuDNBUSY lasts only bwPollTimeout).
          const state = req === "GETSTATUS" ? lastStatusState : await c.getState();
          expect(state).to.equal(outcome.to);
        }
      });
    }

    covers(
      "DFU 1.1 Appendix A state table: dfuDNBUSY / bwPollTimeout",
      "AN3156 §5 (first GETSTATUS is dfuDNBUSY)",
    );
    it("dfuDNBUSY: once bwPollTimeout has elapsed the state is dfuDNLOAD-SYNC, then dfuDNLOAD-IDLE", async () => {
      await startInBootloader(board);
      const c = await connect(board);
      await c.dnload(0, encodeDfuseCommand({ kind: "erase-page", address: profile(board).flash.base }));
      const busy = await c.getStatus();
      expect(busy.state).to.equal(DfuState.dfuDNBUSY);
      expect(busy.pollTimeoutMs).to.equal(Math.ceil(profile(board).timing.pageEraseMs));
      await board.clock.sleep(busy.pollTimeoutMs);
      expect(await c.getState()).to.equal(DfuState.dfuDNLOAD_SYNC);
      expect((await c.getStatus()).state).to.equal(DfuState.dfuDNLOAD_IDLE);
    });
  });
});

function stateOf(from: From): DfuState {
  return {
    dfuIDLE: DfuState.dfuIDLE,
    "dfuDNLOAD-SYNC": DfuState.dfuDNLOAD_SYNC,
    "dfuDNLOAD-IDLE": DfuState.dfuDNLOAD_IDLE,
    "dfuMANIFEST-SYNC": DfuState.dfuMANIFEST_SYNC,
    "dfuUPLOAD-IDLE": DfuState.dfuUPLOAD_IDLE,
    dfuERROR: DfuState.dfuERROR,
  }[from];
}
