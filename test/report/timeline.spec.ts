import { expect } from "chai";
import fc from "fast-check";
import { axisTicks, formatDeviceTime, renderTimelineSvg } from "../../harness/report/timeline.js";

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

  /** The text of every <text> element, in order. */
  const texts = (svg: string) => [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

  it("labels events beside their ticks and names each fault, with a red line across the lanes", () => {
    const svg = renderTimelineSvg(input);
    const shown = texts(svg);
    expect(shown).to.include("re-enumerated");
    expect(shown).to.include("power-cut");
    expect(svg).to.match(
      /<line x1="([\d.]+)" y1="50" x2="\1" y2="\d+" stroke="#d62728" stroke-width="1" stroke-dasharray="4 3"><title>35 ms {2}injected power-cut: flash op 37/,
    );
  });

  it("labels the axis with round ticks, never the device time of the first event", () => {
    const svg = renderTimelineSvg({
      title: "t",
      events: [
        { t: 102.128, kind: "state", detail: "dfuIDLE" },
        { t: 163.5, kind: "usb", detail: "reset" },
      ],
    });
    const axis = texts(svg).filter((t) => /^[\d.]+ m?s$/.test(t ?? ""));
    expect(axis).to.deep.equal(["110 ms", "120 ms", "130 ms", "140 ms", "150 ms", "160 ms"]);
  });

  it("round ticks: 1, 2 or 5 × 10^k apart, inside the range, no more decimals than the step (property)", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.double({ min: 0.01, max: 1e6, noNaN: true }),
        (t0, span) => {
          const ticks = axisTicks(t0, t0 + span);
          expect(ticks.length).to.be.within(2, 11);
          const step = (ticks[1]?.t ?? 0) - (ticks[0]?.t ?? 0);
          const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
          expect([1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6)).to.equal(true);
          for (const tick of ticks) {
            expect(tick.t).to.be.within(t0 - 1e-6 * span, t0 + span * (1 + 1e-6));
            const [value, unit] = tick.label.split(" ");
            expect(Number(value) * (unit === "s" ? 1000 : 1)).to.be.closeTo(tick.t, step / 100);
          }
          // Labels differ from each other (enough decimals) and have no trailing noise.
          expect(new Set(ticks.map((t) => t.label)).size).to.equal(ticks.length);
        },
      ),
    );
  });

  it("draws DFU states as bands and client operations in their own lane, nested ones below", () => {
    const svg = renderTimelineSvg({
      title: "wb55-0: download",
      events: [
        { t: 0, kind: "dfu state", detail: "dfuIDLE" },
        { t: 20, kind: "dfu state", detail: "dfuDNLOAD-IDLE" },
        { t: 80, kind: "dfu state", detail: "dfuERROR errPROG" },
      ],
      operations: [
        {
          title: "download 37 blocks → errPROG (expected)",
          start: 5,
          end: 80,
          depth: 0,
          outcome: "expected",
        },
        { title: "erase 2 pages", start: 5, end: 20, depth: 1, outcome: "ok" },
      ],
    });
    const lanes = [...svg.matchAll(/<text x="8" y="\d+" font-weight="bold">([^<]+)<\/text>/g)].map(
      (m) => m[1],
    );
    expect(lanes).to.deep.equal(["dfu state", "client"]);
    // Three bands, each labelled with its state.
    expect(svg.match(/<rect [^>]*><title>[^<]*dfu state: /g)).to.have.length(3);
    expect(texts(svg)).to.include.members([
      "dfuIDLE",
      "dfuDNLOAD-IDLE",
      "download 37 blocks → errPROG (expected)",
    ]);
    const bar = (title: string) =>
      new RegExp(`<rect x="[\\d.]+" y="(\\d+)"[^>]*><title>[^<]*  ${title}</title>`).exec(svg)?.[1];
    expect(Number(bar("erase 2 pages"))).to.be.greaterThan(
      Number(bar("download 37 blocks → errPROG \\(expected\\)")),
    );
  });
});
