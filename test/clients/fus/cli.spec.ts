import { expect } from "chai";
import { runFus } from "../../../harness/cli/fus-command.js";
import { UsageError } from "../../../harness/cli/usage-error.js";

/** `hil fus` on the default emulated rig (wb55-0), output silenced. */
async function quiet<T>(work: () => Promise<T>): Promise<{ result: T; out: string }> {
  const lines: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    return { result: await work(), out: lines.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

describe("hil fus", () => {
  it("info reads versions and SFSA/SBRV; state over USART answers NOT_RUNNING on a factory board", async () => {
    const info = await quiet(() => runFus({ board: "wb55-0" }, ["info"]));
    expect(info.result).to.equal(0);
    expect(info.out).to.match(/FUS 1\.2\.0/);
    expect(info.out).to.match(/SFSA 0xd0/);
    const state = await quiet(() => runFus({ board: "wb55-0", transport: "usart" }, ["state"]));
    expect(state.result).to.equal(0);
    expect(state.out).to.match(/ERROR \(0xff\), error NOT_RUNNING/);
  });

  it("lock-auth-key goes through the rig interlock (emulated boards are always sacrificial)", async () => {
    // Each invocation builds a fresh emulator: no key installed, so FUS itself refuses the lock,
    // which shows the interlock let it through to the device.
    const r = await quiet(() => runFus({ board: "wb55-0" }, ["lock-auth-key"]));
    expect(r.result).to.equal(1);
    expect(r.out).to.match(/LOCK_AUTH_KEY: FUS refused the command/);
    const upd = await quiet(() =>
      runFus({ board: "wb55-0" }, ["auth-key", "fixtures/fus/test-auth-key.bin"]),
    );
    expect(upd.result).to.equal(0, upd.out);
  });

  it("checks its arguments before touching the board", async () => {
    const e = await runFus({ board: "wb55-0" }, ["upgrade"]).catch((x: unknown) => x);
    expect(e).to.be.instanceOf(UsageError);
    const e2 = await runFus({ board: "wb55-0", transport: "swd" }, ["state"]).catch((x: unknown) => x);
    expect(e2).to.be.instanceOf(UsageError);
  });
});
