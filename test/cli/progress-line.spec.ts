import { EventEmitter } from "node:events";
import { expect } from "chai";
import sinon from "sinon";
import { attachProgressLine, middleCut, progressText } from "../../harness/cli/progress-line.js";
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

  it("keeps the line to one terminal row, shortening the title in its middle", () => {
    const title = ["stm32-dfu: power interruption", "l432-0 (stm32l432)", "a clean cut at every flash op"];
    const ops = [
      { title: "download 262144 bytes", done: 0, total: 0 },
      { title: "download 128 blocks", done: 58, total: 128 },
    ];
    for (const columns of [80, 100, 120]) {
      const text = progressText(37, 412, title, ops, columns);
      expect(text.length, String(columns)).to.be.at.most(columns - 1);
      // The count, the operation and its percent are whole; the title keeps both its ends.
      expect(text.startsWith("[37/412] stm32-dfu"), text).to.equal(true);
      expect(text.endsWith(" · download 262144 bytes › download 128 blocks 45%"), text).to.equal(true);
      expect(text, text).to.match(/ op · /);
      expect(text, text).to.include("…");
    }
    // With no room for a title at all, the innermost operation and its percent still show.
    const narrow = progressText(3, 9, ["a".repeat(100)], ops, 34);
    expect(narrow.length).to.be.at.most(33);
    expect(narrow.startsWith("[3/9] …")).to.equal(true);
    expect(narrow.endsWith("download 128 blocks 45%")).to.equal(true);
    // A line that fits is left as it is.
    expect(progressText(1, 2, ["a", "b"], [], 80)).to.equal("[1/2] a › b");
  });

  it("middleCut keeps both ends and the length asked for", () => {
    expect(middleCut("abcdefghij", 5)).to.equal("ab…ij");
    expect(middleCut("abcdefghij", 10)).to.equal("abcdefghij");
    expect(middleCut("abcdefghij", 6)).to.equal("abc…ij");
  });
});
