import { expect } from "chai";
import { DfuFusLink, type FusClient, UsartFusLink } from "../../harness/clients/fus/index.js";
import { type Board, covers, forEachBoard, getRig } from "../../harness/index.js";
import { DfuState, DfuStatus, type DfuStatusReply, stateName } from "../../harness/protocol/dfu/index.js";
import {
  encodeUserKey,
  FusError,
  FusState,
  isNotRunning,
  MAX_USER_KEYS,
  SBRV_FUS,
} from "../../harness/protocol/fus/index.js";
import {
  factoryKnown,
  factoryReset,
  needFus,
  openFus,
  requireExpendable,
  requireTransport,
  skipWith,
} from "./fixture.js";

/**
 * The STM32WB system bootloader's FUS extension (AN5185 §7) at the packet level, through
 * the harness's own clients: USART special read 0x50 / special write 0x51 (Tables 15–17)
 * and USB DFU DNLOAD / UPLOAD at 0xFFFF00YY (Tables 18–19). Each board runs what its
 * interfaces allow; the others skip with the reason.
 */
const rig = getRig();

/** Opcodes as AN5185 Tables 16–19 give them (written out here, not taken from the harness). */
const GET_STATE = 0x54;
const FW_DELETE = 0x52;
const FW_UPGRADE = 0x53;
const STORE_USR_KEY = 0x58;
const START_WS = 0x5a;
/** AN5185 Table 10: the state values a device may send (the rest is "Not used"). */
function table10(value: number): string | undefined {
  if (value === 0x00) return "FUS_STATE_IDLE";
  if (value >= 0x10 && value <= 0x1f) return "FUS_STATE_FW_UPGRD_ONGOING";
  if (value >= 0x20 && value <= 0x2f) return "FUS_STATE_FUS_UPGRD_ONGOING";
  if (value >= 0x30 && value <= 0x3f) return "FUS_STATE_SERVICE_ONGOING";
  return value === 0xff ? "FUS_STATE_ERROR" : undefined;
}

const hex = (b: number) => `0x${b.toString(16).padStart(2, "0")}`;

/** Table 16/17 status packet "[0x00] if OK". */
const OK_PACKET = [0x00];

async function usart(board: Board): Promise<{ client: FusClient; link: UsartFusLink }> {
  const client = await openFus(board, "usart");
  expect(client.link).to.be.instanceOf(UsartFusLink);
  return { client, link: client.link as UsartFusLink };
}

async function dfu(board: Board): Promise<{ client: FusClient; link: DfuFusLink }> {
  const client = await openFus(board, "usb-dfu");
  expect(client.link).to.be.instanceOf(DfuFusLink);
  return { client, link: client.link as DfuFusLink };
}

/** FUS running (Table 1) and a wireless stack installed, or the test skips (a lab board without one). */
async function fusWithStack(ctx: Mocha.Context, board: Board, client: FusClient): Promise<void> {
  await client.startFus();
  if (!(await client.readDeviceInfo()).stackInstalled)
    await skipWith(ctx, board, "no wireless stack installed (device information table)");
}

/** Table 18 "managed in same way as SET_ADDRESS_POINTER and ERASE": dfuDNBUSY, then dfuDNLOAD-IDLE. */
function expectAccepted(replies: DfuStatusReply[] | undefined, what: string): void {
  expect(replies, `${what}: GETSTATUS answered`).to.not.equal(undefined);
  const states = replies!.map((r) => stateName(r.state));
  expect(replies![0]!.state, `${what}: first GETSTATUS [${states.join(", ")}]`).to.equal(DfuState.dfuDNBUSY);
  const last = replies!.at(-1)!;
  expect(last.state, `${what}: last GETSTATUS [${states.join(", ")}]`).to.equal(DfuState.dfuDNLOAD_IDLE);
  expect(last.status, `${what}: status`).to.equal(DfuStatus.OK);
}

describe("stm32-fus: bootloader FUS extension (AN5185 §7)", () => {
  forEachBoard(rig, needFus(), (board) => {
    describe("USART special read/write (Tables 15–17)", () => {
      covers("AN5185 Table 15");
      it("Get lists special read 0x50 and special write 0x51 beside the AN3155 commands; 0x50/0xAF is ACKed", async function () {
        await requireTransport(this, board, "usart");
        await factoryReset(board);
        const { link } = await usart(board);
        const codes = await link.bootloaderCommands();
        const hex = codes.map((c) => c.toString(16).padStart(2, "0")).join(" ");
        expect(codes, `Get: ${hex}`).to.include.members([0x00, 0x01, 0x02, 0x11, 0x31]);
        expect(codes, `Get: ${hex}: Table 15 special read`).to.include(0x50);
        expect(codes, `Get: ${hex}: Table 15 special write`).to.include(0x51);
        // A NACK of 0x50/0xAF ("command not supported", §7.1.1) would leave this unanswered.
        expect(await link.getStatePackets(), "special read 0x50 0xAF acknowledged and answered").to.not.equal(
          undefined,
        );
        await link.close();
      });

      covers("AN5185 Table 16", "AN5185 Table 15");
      it("special read 0x50 with FUS_GET_STATE 0x54: data packet [0x00, state, error], status packet [0x00]", async function () {
        await requireTransport(this, board, "usart");
        await factoryReset(board);
        const { client, link } = await usart(board);
        const first = await link.getStatePackets();
        expect(first, "the first GET_STATE is answered").to.not.equal(undefined);
        expect(first!.data.length, "data packet size 0x0003").to.equal(3);
        expect(first!.data[0], "data packet starts with 0x00").to.equal(0x00);
        expect([...first!.status], "status packet [0x00]").to.deep.equal(OK_PACKET);
        const running = isNotRunning({ state: first!.data[1]!, error: first!.data[2]! });
        // The factory state has the stack running: it answers FUS_STATE_NOT_RUNNING (Table 1).
        if (factoryKnown(board)) expect([...first!.data], "stack running").to.deep.equal([0x00, 0xff, 0xfe]);
        if (running) await client.startFus();
        else expect(first!.data[1], "FUS running: idle").to.equal(0x00);
        const idle = await link.getStatePackets();
        expect(idle, "FUS answers").to.not.equal(undefined);
        expect([...idle!.data], "FUS_STATE_IDLE, no error").to.deep.equal([0x00, 0x00, 0x00]);
        expect([...idle!.status]).to.deep.equal(OK_PACKET);
        await link.close();
      });

      covers("AN5185 Table 16", "AN5185 Table 17");
      it("only the mapped opcodes: START_WS through special read 0x50 and GET_STATE through special write 0x51 are NACKed", async function () {
        await requireTransport(this, board, "usart");
        await factoryReset(board);
        const { client, link } = await usart(board);
        await client.startFus();
        await link.bootloaderCommands(); // synced, FUS idle
        const nack = (p: Promise<unknown>) =>
          p.then(
            () => "answered",
            (e: unknown) => (e as { name?: string }).name,
          );
        // §7.1.1/§7.1.2: "Device sends ACK if opcode is supported. NACK otherwise."
        expect(
          await nack(link.usart.special(START_WS, new Uint8Array(0))),
          "0x5A on the read command",
        ).to.equal("NackError");
        expect(
          await nack(link.usart.extendedSpecial(GET_STATE, new Uint8Array(0), new Uint8Array(0))),
          "0x54 on the write command",
        ).to.equal("NackError");
        const s = await client.getState();
        expect(s?.stateName, "nothing started: FUS still idle").to.equal("IDLE");
        await link.close();
      });

      covers("AN5185 Table 17", "AN5185 Table 15");
      it("special write 0x51 with FUS_START_WS 0x5A: status packet [0x00], then the wireless stack runs", async function () {
        await requireTransport(this, board, "usart");
        await factoryReset(board);
        const { client, link } = await usart(board);
        await fusWithStack(this, board, client);
        const status = await link.commandPacket(START_WS);
        expect(status, "special write 0x51 0xAE acknowledged and answered").to.not.equal(undefined);
        expect([...status!], "Table 9 START_WS: operation started").to.deep.equal(OK_PACKET);
        const end = await client.waitFor("START_WS", isNotRunning);
        expect(isNotRunning(end), "the stack answers FUS_STATE_NOT_RUNNING").to.equal(true);
        expect((await client.readSecureBoundaries()).sbrv, "SBRV points at the stack").to.not.equal(SBRV_FUS);
        await link.close();
      });

      covers("AN5185 Table 17", "AN5185 Table 11 FUS_STATE_IMG_NOT_FOUND");
      it("special write 0x51 with FUS_FW_UPGRADE 0x53 and no image in flash: [0x00], then IMG_NOT_FOUND and idle, stack kept", async function () {
        await requireTransport(this, board, "usart");
        // FUS searches all of the user flash (fact sheet §5.4): only a restored one is known blank.
        if (!factoryKnown(board))
          await skipWith(this, board, "needs user flash known to hold no image (FUS searches all of it)");
        await factoryReset(board);
        const { client, link } = await usart(board);
        await fusWithStack(this, board, client);
        const before = await client.readDeviceInfo();
        const status = await link.commandPacket(FW_UPGRADE);
        expect([...status!], "Table 9 FW_UPGRADE: operation started").to.deep.equal(OK_PACKET);
        const end = await client.waitFor(
          "FW_UPGRADE",
          (s) => s.state === FusState.ERROR || s.state === FusState.IDLE,
        );
        expect([end.state, end.error], "FUS_STATE_ERROR, IMG_NOT_FOUND").to.deep.equal([0xff, 0x01]);
        expect([...(await link.getStatePackets())!.data], "then idle").to.deep.equal([0x00, 0x00, 0x00]);
        const after = await client.readDeviceInfo();
        expect(after.wirelessStackVersion, "the installed stack is untouched").to.equal(
          before.wirelessStackVersion,
        );
        await link.close();
      });

      covers("AN5185 Table 17", "AN5185 Table 15");
      it("special write 0x51 with FUS_FW_DELETE 0x52: [0x00], stack deleted; START_WS then fails with [0x01, state, error]", async function () {
        await requireTransport(this, board, "usart");
        await requireExpendable(this, board, "FW_DELETE");
        await factoryReset(board);
        const { client, link } = await usart(board);
        await fusWithStack(this, board, client);
        const status = await link.commandPacket(FW_DELETE);
        expect([...status!], "Table 9 FW_DELETE: operation started").to.deep.equal(OK_PACKET);
        await expectStackDeleted(client);
        // Table 9 START_WS "0x01: Fail" with nothing to start: the Table 17 KO packet (the
        // emulator refuses at once; a FUS that reports it through GET_STATE instead is
        // accepted on lab boards), and FUS keeps running.
        const ko = await link.commandPacket(START_WS);
        expect(ko, "answered").to.not.equal(undefined);
        const packet = [...ko!].map(hex).join(" ");
        if (factoryKnown(board) || ko![0] !== 0x00) {
          expect(ko!.length, `KO packet size 0x0003: ${packet}`).to.equal(3);
          expect(ko![0], `KO status 0x01: ${packet}`).to.equal(0x01);
          expect(table10(ko![1]!), `state byte of ${packet}`).to.not.equal(undefined);
          if (factoryKnown(board)) expect(ko![1], "FUS_STATE_ERROR").to.equal(FusState.ERROR);
        } else {
          expect((await client.getState())?.stateName, `[0x00], then GET_STATE`).to.equal("ERROR");
        }
        const after = await client.getState();
        expect(after && !isNotRunning(after), "FUS still runs, no stack started").to.equal(true);
        await link.close();
      });
    });

    describe("USB DFU download/upload (Tables 18–19)", () => {
      covers("AN5185 Table 19");
      it("UPLOAD of 2 bytes at 0xFFFF0054 is FUS_GET_STATE: [FUS state, error code]", async function () {
        await requireTransport(this, board, "usb-dfu");
        await factoryReset(board);
        const { client, link } = await dfu(board);
        const first = await link.getStateBytes();
        expect(first, "the first GET_STATE is answered").to.not.equal(undefined);
        expect(first!.length, "state buffer: 2 bytes").to.equal(2);
        if (factoryKnown(board)) expect([...first!], "stack running").to.deep.equal([0xff, 0xfe]);
        if (isNotRunning({ state: first![0]!, error: first![1]! })) await client.startFus();
        else expect(first![0], "FUS running: idle").to.equal(0x00);
        expect([...(await link.getStateBytes())!], "FUS_STATE_IDLE, no error").to.deep.equal([0x00, 0x00]);
        await link.close();
      });

      covers("AN5185 Table 18");
      it("DNLOAD wBlockNum 0 [0x5A] is FUS_START_WS: dfuDNBUSY, dfuDNLOAD-IDLE, then the stack runs", async function () {
        await requireTransport(this, board, "usb-dfu");
        await factoryReset(board);
        const { client, link } = await dfu(board);
        await fusWithStack(this, board, client);
        expectAccepted(await link.commandStatuses(START_WS), "START_WS");
        const end = await client.waitFor("START_WS", isNotRunning);
        expect(isNotRunning(end), "the stack answers FUS_STATE_NOT_RUNNING").to.equal(true);
        expect((await client.readSecureBoundaries()).sbrv, "SBRV points at the stack").to.not.equal(SBRV_FUS);
        await link.close();
      });

      covers("AN5185 Table 18", "AN5185 Table 19", "AN5185 Table 11 FUS_STATE_IMG_NOT_FOUND");
      it("DNLOAD wBlockNum 0 [0x53] is FUS_FW_UPGRADE: accepted; with no image, IMG_NOT_FOUND at 0xFFFF0054", async function () {
        await requireTransport(this, board, "usb-dfu");
        if (!factoryKnown(board))
          await skipWith(this, board, "needs user flash known to hold no image (FUS searches all of it)");
        await factoryReset(board);
        const { client, link } = await dfu(board);
        await fusWithStack(this, board, client);
        const before = await client.readDeviceInfo();
        expectAccepted(await link.commandStatuses(FW_UPGRADE), "FW_UPGRADE");
        const end = await client.waitFor(
          "FW_UPGRADE",
          (s) => s.state === FusState.ERROR || s.state === FusState.IDLE,
        );
        expect([end.state, end.error], "FUS_STATE_ERROR, IMG_NOT_FOUND").to.deep.equal([
          0xff,
          FusError.IMG_NOT_FOUND,
        ]);
        expect([...(await link.getStateBytes())!], "then idle").to.deep.equal([0x00, 0x00]);
        expect((await client.readDeviceInfo()).wirelessStackVersion, "stack untouched").to.equal(
          before.wirelessStackVersion,
        );
        await link.close();
      });

      covers("AN5185 Table 18");
      it("DNLOAD wBlockNum 0 [0x52] is FUS_FW_DELETE: accepted, stack deleted; [0x5A] then ends in dfuERROR", async function () {
        await requireTransport(this, board, "usb-dfu");
        await requireExpendable(this, board, "FW_DELETE");
        await factoryReset(board);
        const { client, link } = await dfu(board);
        await fusWithStack(this, board, client);
        expectAccepted(await link.commandStatuses(FW_DELETE), "FW_DELETE");
        await expectStackDeleted(client);
        // Table 9 START_WS "0x01: Fail" with nothing to start: the DFU request fails (AN3156 dfuERROR).
        // The emulator fails the request (dfuERROR, errVENDOR: the DFU status carries no FUS
        // state); a FUS that reports it through GET_STATE instead is accepted on lab boards.
        const replies = await link.commandStatuses(START_WS);
        const last = replies?.at(-1);
        expect(last, "GETSTATUS answered").to.not.equal(undefined);
        if (factoryKnown(board) || last!.state === DfuState.dfuERROR) {
          expect(last!.state, "START_WS without a stack: the request fails").to.equal(DfuState.dfuERROR);
          expect(last!.status, "with an error status").to.not.equal(DfuStatus.OK);
        } else {
          expect((await client.getState())?.stateName, "accepted, then GET_STATE").to.equal("ERROR");
        }
        const after = await client.getState();
        expect(after && !isNotRunning(after), "FUS still runs, no stack started").to.equal(true);
        await link.close();
      });

      covers("AN5185 Table 18", "AN5185 Table 19");
      it("DNLOAD [0x58 key] then UPLOAD 1 byte at 0xFFFF0059: FUS_STORE_USR_KEY in two steps, the key index", async function () {
        await requireTransport(this, board, "usb-dfu");
        await requireExpendable(this, board, "FUS_STORE_USR_KEY (a key slot for good)");
        await factoryReset(board);
        const { client, link } = await dfu(board);
        await client.startFus();
        const key = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
        const indexes: number[] = [];
        for (const k of [key, key.map((b) => b ^ 0xff)]) {
          expectAccepted(
            await link.commandStatuses(STORE_USR_KEY, encodeUserKey("simple", k)),
            "STORE_USR_KEY",
          );
          const dev = link.dfu;
          await dev.toIdle("key index");
          await dev.setAddress(0xffff_0059);
          await dev.abort();
          const r = await dev.uploadBlock(2, 1, "FUS_STORE_USR_KEY index (UPLOAD 0xFFFF0059)");
          expect(r, "UPLOAD 0xFFFF0059 answered").to.not.equal("stall");
          expect((r as Uint8Array).length, "key index: 1 byte").to.equal(1);
          indexes.push((r as Uint8Array)[0]!);
        }
        for (const i of indexes) expect(i, "Table 9: stored key index 0..100").to.be.within(0, MAX_USER_KEYS);
        expect(indexes[1], "a second key gets its own index").to.not.equal(indexes[0]);
        await link.close();
      });
    });
  });
});

/** After FW_DELETE was accepted: FUS works (FW_UPGRD_ONGOING or resets), ends idle, and the stack is gone. */
async function expectStackDeleted(client: FusClient): Promise<void> {
  const from = client.trace.length;
  await client.waitFor("FW_DELETE", (s) => s.state === FusState.IDLE);
  expect(client.labels(from), "FUS at work (FW_UPGRD_ONGOING, resets), then idle").to.satisfy(
    (labels: string[]) => labels.some((l) => l === "FW_UPGRD_ONGOING" || l === "reset"),
  );
  expect((await client.readDeviceInfo()).stackInstalled, "no stack any more").to.equal(false);
}
