#!/usr/bin/env node
// Entry point of the `hil` command: registers tsx so the TypeScript harness and the
// suites load as they are, then hands over to harness/cli/main.ts.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../harness/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
// Done: something a failed test left open must not keep a nightly waiting.
const { exitWhenDone } = await import("../harness/cli/exit-watchdog.ts");
exitWhenDone();
