import { expect } from "chai";
import { formatDeviceTime, renderTimelineSvg } from "../../harness/report/timeline.js";

describe("report: state timeline picture", () => {
  const input = {
    title: "wb55-0: power cut mid-download",
    events: [
      { t: 0, kind: "state", detail: "dfuIDLE" },
      { t: 10, kind: "state", detail: "dfuDNBUSY" },
      { t: 30, kind: "usb", detail: "re-enumerated" },
      { t: 40, kind: "state", detail: "dfuERROR <errTARGET>" },
    ],
    power: [
      { t: 0, event: "on" },
      { t: 35, event: "lost", reason: "power-cut" },
    ],
    faults: [{ t: 35, detail: "flash op 37 (program 0x08004000+2048)", what: "power-cut" }],
    wallMs: 12,
  };

  it("draws one lane per kind on the device time axis, the fault in red, text escaped", () => {
    const svg = renderTimelineSvg(input);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).to.equal(true);
    const lanes = [...svg.matchAll(/<text x="8" y="\d+" font-weight="bold">([^<]+)<\/text>/g)].map(
      (m) => m[1],
    );
    expect(lanes).to.deep.equal(["state", "power", "fault", "usb"]);
    expect(svg).to.include("device time 0 ms → 40 ms; wall time 12 ms; 4 events");
    expect(svg).to.include("dfuERROR &lt;errTARGET&gt;");
    expect(svg).to.include('stroke="#d62728"');
    expect(svg).to.include("35 ms  fault: flash op 37 (program 0x08004000+2048): power-cut");
    expect(svg.match(/<g>/g)?.length).to.equal(svg.match(/<\/g>/g)?.length);
  });

  it("keeps the last maxEvents events and what happened from the first of them on", () => {
    const svg = renderTimelineSvg({ ...input, maxEvents: 2 });
    expect(svg).to.include("device time 30 ms → 40 ms; wall time 12 ms; last 2 of 4 events");
    expect(svg).to.include("35 ms  power: lost: power-cut");
    expect(svg).not.to.include("dfuIDLE");
    expect(svg).not.to.include("0 ms  power: on<");
  });

  it("is the same picture for the same events", () => {
    expect(renderTimelineSvg(input)).to.equal(renderTimelineSvg(structuredClone(input)));
  });

  it("formats device time as ms below a second, seconds above", () => {
    expect(formatDeviceTime(22)).to.equal("22 ms");
    expect(formatDeviceTime(40_250)).to.equal("40.250 s");
  });
});
