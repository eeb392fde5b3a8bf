import { type EmulatorView, MAX_EVENTS } from "../seams/device-log.js";
import { formatWhat } from "../seams/faults-format.js";

/**
 * An emulated device's event log and fired faults as text, on the device's time axis: what
 * a failed scenario attaches so the failure can be read (and replayed with the seed).
 */
export function renderDeviceLog(device: EmulatorView, fromEvent = 0): string {
  const lines = [`seed ${device.seed}`, "faults fired:"];
  for (const f of device.faults.fired) lines.push(`${fmt(f.t)}  ${f.detail}: ${formatWhat(f.fault.what)}`);
  lines.push("events:");
  const { events, dropped } = device.eventsSince(fromEvent);
  if (dropped > 0)
    lines.push(`(${dropped} earlier events dropped: the device keeps its newest ${MAX_EVENTS})`);
  for (const e of events) lines.push(`${fmt(e.t)}  ${e.kind.padEnd(8)}  ${e.detail}`);
  return lines.join("\n");
}

function fmt(ms: number): string {
  return `${(ms / 1000).toFixed(3).padStart(10)} s`;
}
