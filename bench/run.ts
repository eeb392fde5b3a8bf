import { join } from "node:path";
import { dfuBench } from "./dfu.bench.js";
import { flashBench } from "./flash.bench.js";
import { fusBench } from "./fus.bench.js";
import { printTable, writeJson } from "./harness.js";
import { historyBench } from "./history.bench.js";
import { nrf52840Bench } from "./nrf52840.bench.js";
import { tkeyBench } from "./tkey.bench.js";
import { twinBench } from "./twin.bench.js";
import { usartBench } from "./usart.bench.js";
import { usbipBench } from "./usbip.bench.js";

// `npm run bench`: every benchmark in one process, so ratios compare figures from one run.
const results = [
  flashBench(),
  await tkeyBench(),
  await usartBench(),
  await dfuBench(),
  await nrf52840Bench(),
  await usbipBench(),
  await fusBench(),
  await twinBench(),
  await historyBench(),
];
printTable(results);
const out = join(import.meta.dirname, "..", "reports", "bench.json");
await writeJson(out, results);
console.log(`\nwritten: ${out}`);
