import { join } from "node:path";
import { flashBench } from "./flash.bench.js";
import { printTable, writeJson } from "./harness.js";
import { tkeyBench } from "./tkey.bench.js";

// `npm run bench`: every benchmark in one process, so ratios compare figures from one run.
const results = [flashBench(), await tkeyBench()];
printTable(results);
const out = join(import.meta.dirname, "..", "reports", "bench.json");
await writeJson(out, results);
console.log(`\nwritten: ${out}`);
