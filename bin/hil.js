#!/usr/bin/env node
// Entry point of the `hil` command: registers tsx so the TypeScript harness and the
// suites load as they are, then hands over to harness/cli/main.ts.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../harness/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
// The command is done: whatever it left open (a port a failed test never closed, a child)
// must not keep a nightly waiting. Give pending output a moment, name what is open, exit.
setTimeout(() => {
  console.error(`hil: exiting with resources still open: ${process.getActiveResourcesInfo().join(", ")}`);
  process.exit();
}, 5000).unref();
