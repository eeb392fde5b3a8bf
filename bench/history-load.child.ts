/**
 * Child of bench/history.bench.ts, so its memory is the loader's alone: reads the hil
 * history named on the command line and summarises every board's operations over the
 * nights (timingTrends, as hil report does), then prints time and peak memory as JSON.
 */
import { readNights } from "../harness/report/night-history.js";
import { timingTrends } from "../harness/report/operation-timing.js";

const file = process.argv[2];
if (!file) throw new Error("usage: history-load.child.ts HISTORY.jsonl");
const t0 = performance.now();
const nights = await readNights(file);
const trends = timingTrends(nights);
const ms = performance.now() - t0;
process.stdout.write(
  `${JSON.stringify({
    ms,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    nights: nights.length,
    trends: trends.length,
    drifting: trends.filter((t) => t.drift).length,
  })}\n`,
);
