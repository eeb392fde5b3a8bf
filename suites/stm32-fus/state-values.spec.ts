import { expect } from "chai";
import { buildFusImage, STACK_1, v } from "../../fixtures/fus/build.js";
import type { FusClient, FusTraceEntry } from "../../harness/clients/fus/index.js";
import { covers, forEachBoard, getRig } from "../../harness/index.js";
import { fusStateName } from "../../harness/protocol/fus/index.js";
import { factoryKnown, factoryReset, needFus, openFus, requireTransport, TRANSPORTS } from "./fixture.js";

/**
 * AN5185 Table 10: every state byte FUS_GET_STATE returns along a documented sequence
 * (stack running → activation → delete → install → FUS upgrade) is one of the documented
 * values, decodes to its name, and the operation under way shows its range. On every
 * bootloader interface the board offers; the others skip with the reason.
 *
 * FUS_STATE_SERVICE_ONGOING (0x30..0x3F) is not among the checks: the key services answer
 * "Operation done" (Table 9), so through the bootloader the command has finished before a
 * GET_STATE can be sent.
 */
const rig = getRig();

/** AN5185 Table 10 as written (the values "Not used" are left out: a device must not send them). */
const TABLE_10: readonly { from: number; to: number; name: string; harness: string }[] = [
  { from: 0x00, to: 0x00, name: "FUS_STATE_IDLE", harness: "IDLE" },
  { from: 0x10, to: 0x1f, name: "FUS_STATE_FW_UPGRD_ONGOING", harness: "FW_UPGRD_ONGOING" },
  { from: 0x20, to: 0x2f, name: "FUS_STATE_FUS_UPGRD_ONGOING", harness: "FUS_UPGRD_ONGOING" },
  { from: 0x30, to: 0x3f, name: "FUS_STATE_SERVICE_ONGOING", harness: "SERVICE_ONGOING" },
  { from: 0xff, to: 0xff, name: "FUS_STATE_ERROR", harness: "ERROR" },
];

function table10(value: number): string | undefined {
  return TABLE_10.find((r) => value >= r.from && value <= r.to)?.name;
}

type States = Extract<FusTraceEntry, { kind: "state" }>[];

function states(client: FusClient, from = 0, to = client.trace.length): States {
  return client.trace.slice(from, to).filter((e): e is States[number] => e.kind === "state");
}

const hex = (b: number) => `0x${b.toString(16).padStart(2, "0")}`;

describe("stm32-fus: FUS state values (AN5185 Table 10)", () => {
  forEachBoard(rig, needFus(), (board) => {
    for (const transport of TRANSPORTS) {
      covers("AN5185 Table 10");
      it(`${transport}: GET_STATE along activation, delete, install and FUS upgrade answers Table 10 values only`, async function () {
        await requireTransport(this, board, transport);
        await factoryReset(board);
        // A quick cadence, so the short ongoing phases (a delete before its first reset) are seen.
        const client = await openFus(board, transport, { pollIntervalMs: 50 });
        const phases: { name: string; from: number; to: number }[] = [];
        const phase = async (name: string, work: () => Promise<unknown>) => {
          const from = client.trace.length;
          await work();
          phases.push({ name, from, to: client.trace.length });
        };
        const seen = (name: string) => {
          const p = phases.find((x) => x.name === name)!;
          return states(client, p.from, p.to).map((s) => table10(s.state));
        };

        await phase("activation", () => client.startFus());
        const firstAnswer = states(client)[0]!;
        if (factoryKnown(board))
          expect(
            [firstAnswer.state, firstAnswer.error],
            "the stack answers FUS_STATE_ERROR / NOT_RUNNING",
          ).to.deep.equal([0xff, 0xfe]);
        expect(seen("activation").at(-1), "FUS active: idle").to.equal("FUS_STATE_IDLE");

        // A lab board without a stack has nothing to delete; one not sacrificial keeps its stack.
        const expendable = factoryKnown(board) || board.capabilities.has("sacrificial");
        if (expendable && (await client.readDeviceInfo()).stackInstalled) {
          await phase("delete", () => client.fwDelete());
          // Over USART the resync before each request can outlast the short phase before FUS's
          // first reset: the delete shows as its range or as the resets it causes.
          const p = phases.find((x) => x.name === "delete")!;
          const labels = client.labels(p.from).slice(0, p.to - p.from);
          expect(
            seen("delete").includes("FUS_STATE_FW_UPGRD_ONGOING") || labels.includes("reset"),
            `FW_DELETE under way: ${labels.join(" ")}`,
          ).to.equal(true);
          expect(seen("delete").at(-1), "FW_DELETE done").to.equal("FUS_STATE_IDLE");
        }
        if (board.emulated) {
          // Emulator-signed images: a lab FUS refuses them (fixtures/fus).
          await phase("install", () => client.fwUpgrade(STACK_1()));
          expect(seen("install"), "FW_UPGRADE under way").to.include("FUS_STATE_FW_UPGRD_ONGOING");
          await phase("fus upgrade", () =>
            client.fwUpgrade(
              buildFusImage({ kind: "fus", version: v(2, 2, 0), sectors: 6, label: "fus-2.2.0" }),
            ),
          );
          expect(seen("fus upgrade"), "FUS upgrade under way").to.include("FUS_STATE_FUS_UPGRD_ONGOING");
        }

        const all = states(client);
        // A lab board with FUS already active and no stack to delete answers one IDLE.
        expect(all.length, "GET_STATE answers").to.be.greaterThan(factoryKnown(board) ? 1 : 0);
        for (const s of all) {
          const name = table10(s.state);
          expect(name, `state ${hex(s.state)} (error ${hex(s.error)}) is a Table 10 value`).to.not.equal(
            undefined,
          );
          expect(fusStateName(s.state), `the harness decodes ${hex(s.state)} as ${name}`).to.equal(
            TABLE_10.find((r) => r.name === name)!.harness,
          );
        }
        await client.link.close();
      });
    }
  });
});
