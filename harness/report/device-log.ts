import type { EmulatedDevice } from "../devices/emulated-device.js";
import { formatWhat } from "../sim/faults.js";

/**
 * An emulated device's event log and fired faults as text, on the device's time axis: what
 * a failed scenario attaches so the failure can be read (and replayed with the seed).
 */
export function renderDeviceLog(device: EmulatedDevice, fromEvent = 0): string {
  const lines = [`seed ${device.seed}`, "faults fired:"];
  for (const f of device.faults.fired) lines.push(`${fmt(f.t)}  ${f.detail}: ${formatWhat(f.fault.what)}`);
  lines.push("events:");
  for (const e of device.events.slice(fromEvent)) lines.push(`${fmt(e.t)}  ${e.kind.padEnd(8)}  ${e.detail}`);
  return lines.join("\n");
}

function fmt(ms: number): string {
  return `${(ms / 1000).toFixed(3).padStart(10)} s`;
}
