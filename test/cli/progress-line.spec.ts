import { EventEmitter } from "node:events";
import { expect } from "chai";
import sinon from "sinon";
import { attachProgressLine, progressText } from "../../harness/cli/progress-line.js";
import { operation } from "../../harness/clients/operation.js";
import { Transcript } from "../../harness/transport/transcript.js";

class FakeTty {
  isTTY = true;
  columns = 200;
  written: string[] = [];
  write(text: string) {
    this.written.push(text);
    return true;
  }
}

const source = { kind: "dfu", transcript: new Transcript() };

describe("hil run: progress line on a terminal", () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
  });
  afterEach(() => clock.restore());

  it("shows scenarios done of all, the running scenario and the operations under way with percent", async () => {
    const runner = Object.assign(new EventEmitter(), { total: 12 });
    const tty = new FakeTty();
    const stop = attachProgressLine(runner, tty, { env: {} });
    runner.emit("test end");
    runner.emit("test", {
      title: "t",
      titlePath: () => ["stm32-dfu: full update", "l432-0 (stm32l432)", "a 256 KB update"],
    });
    await operation(source, "download 262144 bytes", async () => {
      await operation(source, "download 128 blocks", async (op) => {
        op.progress?.(58, 128);
        clock.tick(250);
      });
    });
    expect(tty.written.at(-1)).to.equal(
      "\r\x1b[2K[1/12] stm32-dfu: full update › l432-0 (stm32l432) › a 256 KB update · download 262144 bytes › download 128 blocks 45%",
    );
    // The spec reporter's line must not land after ours: cleared first.
    runner.emit("pass");
    expect(tty.written.at(-1)).to.equal("\r\x1b[2K");
    clock.tick(250);
    expect(tty.written.at(-1)).to.equal(
      "\r\x1b[2K[1/12] stm32-dfu: full update › l432-0 (stm32l432) › a 256 KB update",
    );
    stop();
    const count = tty.written.length;
    clock.tick(1000);
    expect(tty.written.length).to.equal(count);
  });

  it("writes nothing when stderr is not a terminal, or under CI", () => {
    for (const [isTTY, env] of [
      [false, {}],
      [true, { CI: "true" }],
    ] as const) {
      const runner = new EventEmitter();
      const tty = Object.assign(new FakeTty(), { isTTY });
      attachProgressLine(runner, tty, { env });
      runner.emit("test", { title: "x" });
      clock.tick(1000);
      runner.emit("pass");
      expect(tty.written).to.deep.equal([]);
    }
  });

  it("keeps the line to one terminal row", () => {
    const text = progressText(3, 9, ["a".repeat(100)], [{ title: "upload", done: 1, total: 4 }], 40);
    expect(text).to.have.length(39);
    expect(text.endsWith("…")).to.equal(true);
  });
});
