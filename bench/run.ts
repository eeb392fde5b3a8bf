import { join } from "node:path";
import { campaignBench } from "./campaign.bench.js";
import { dfuBench } from "./dfu.bench.js";
import { flashBench } from "./flash.bench.js";
import { fusBench } from "./fus.bench.js";
import { judgeGoals, printGoals } from "./goals.js";
import { printTable, writeJson } from "./harness.js";
import { historyBench } from "./history.bench.js";
import { leaseBench } from "./lease.bench.js";
import { nrf52840Bench } from "./nrf52840.bench.js";
import { regressBench } from "./regress.bench.js";
import { rfc2217Bench } from "./rfc2217.bench.js";
import { tkeyBench } from "./tkey.bench.js";
import { twinBench } from "./twin.bench.js";
import { usartBench } from "./usart.bench.js";
import { usbipBench } from "./usbip.bench.js";

// `npm run bench`: every benchmark in one process, so ratios compare figures from one run.
const results = [
  flashBench(),
  await tkeyBench(),
  await usartBench(),
  await rfc2217Bench(),
  await dfuBench(),
  await nrf52840Bench(),
  await usbipBench(),
  await fusBench(),
  await twinBench(),
  await leaseBench(),
  await campaignBench(),
  await regressBench(),
  await historyBench(),
];
printTable(results);
printGoals(judgeGoals(results));
const out = join(import.meta.dirname, "..", "reports", "bench.json");
await writeJson(out, results);
console.log(`\nwritten: ${out}`);
