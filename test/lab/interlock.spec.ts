import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import {
  ALLOW_IRREVERSIBLE_ENV,
  assertIrreversibleAllowed,
  IrreversibleOperationRefused,
  irreversibleGuard,
  irreversibleRefusal,
  withIrreversible,
} from "../../harness/lab/interlock.js";
import { createBytePair } from "../../harness/transport/byte-pair.js";
import { fakeBoard } from "../rig/fake-board.js";

const ALLOW = { [ALLOW_IRREVERSIBLE_ENV]: "1" };
const lab = (capabilities: ("sacrificial" | "fus")[]) =>
  fakeBoard({ id: "wb55-nucleo", family: "stm32wb55", emulated: false, capabilities });

describe("lab/interlock", () => {
  it("allows a lab board marked sacrificial when the run passes the flag", () => {
    expect(() => assertIrreversibleAllowed(lab(["sacrificial"]), "rdp-level-2", ALLOW)).not.to.throw();
    for (const value of ["1", "true", "YES"])
      expect(irreversibleRefusal(lab(["sacrificial"]), "rdp-level-2", { [ALLOW_IRREVERSIBLE_ENV]: value })).to
        .be.undefined;
  });

  it("refuses without the run flag, naming board, operation and what is missing", () => {
    const error = (() => {
      try {
        assertIrreversibleAllowed(lab(["sacrificial", "fus"]), "fus-auth-key-lock", {});
      } catch (e) {
        return e as IrreversibleOperationRefused;
      }
      throw new Error("not refused");
    })();
    expect(error).to.be.instanceOf(IrreversibleOperationRefused);
    expect(error.boardId).to.equal("wb55-nucleo");
    expect(error.reasons).to.deep.equal(["no-run-flag"]);
    expect(error.message).to.match(/refused irreversible operation 'fus-auth-key-lock'/);
    expect(error.message).to.include("wb55-nucleo");
    expect(error.message).to.include("--allow-irreversible");
    expect(error.message).to.include("Nothing was sent");
  });

  it("refuses a board not marked sacrificial even with the flag; both reasons when both miss", () => {
    expect(irreversibleRefusal(lab(["fus"]), "option-bytes-brick", ALLOW)).to.match(
      /not list the board as sacrificial/,
    );
    const both = irreversibleRefusal(lab([]), "client-marked-thing", { [ALLOW_IRREVERSIBLE_ENV]: "0" });
    expect(both).to.match(
      /'client-marked-thing' on lab board wb55-nucleo: .*sacrificial.*, and .*--allow-irreversible/,
    );
  });

  it("emulated boards are always sacrificial", () => {
    const emulated = fakeBoard({ id: "wb-emu", family: "stm32wb55", emulated: true });
    expect(irreversibleRefusal(emulated, "rdp-level-2", {})).to.be.undefined;
  });

  it("a refused operation sends nothing: the action is never started", async () => {
    const { host, device } = createBytePair({ name: "usart" });
    const received: number[] = [];
    device.onData((bytes) => received.push(...bytes));
    let started = false;
    const send = async () => {
      started = true;
      await host.write(Uint8Array.of(0x31, 0xce)); // Write Memory to the option bytes
    };
    const error = await withIrreversible(lab(["sacrificial"]), "rdp-level-2", send, {}).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error).to.be.instanceOf(IrreversibleOperationRefused);
    expect(started).to.equal(false);
    expect(received).to.deep.equal([]);
    // The same operation goes through once allowed.
    await withIrreversible(lab(["sacrificial"]), "rdp-level-2", send, ALLOW);
    expect(received).to.deep.equal([0x31, 0xce]);
  });

  it("a client guard reads the environment at each call", () => {
    const env: NodeJS.ProcessEnv = {};
    const guard = irreversibleGuard(lab(["sacrificial"]), env);
    expect(() => guard("fus-auth-key-lock")).to.throw(IrreversibleOperationRefused);
    env[ALLOW_IRREVERSIBLE_ENV] = "1";
    expect(() => guard("fus-auth-key-lock")).not.to.throw();
  });

  it("hil run --allow-irreversible sets the run flag for the suites", async function () {
    this.timeout(60_000);
    const hil = join(import.meta.dirname, "..", "..", "bin", "hil.js");
    const r = await execa(
      "node",
      [hil, "run", "--allow-irreversible", "--grep", "^no test has this title$"],
      {
        reject: false,
        stdin: "ignore",
        env: {
          HIL_RESULTS_DIR: join(tmpdir(), `hil-interlock-${process.pid}`),
          HIL_RIG: "",
          [ALLOW_IRREVERSIBLE_ENV]: "",
        },
      },
    );
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(r.stdout).to.include("irreversible operations allowed on sacrificial boards");
  });
});
