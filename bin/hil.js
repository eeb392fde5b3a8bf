#!/usr/bin/env node
// Entry point of the `hil` command. In a checkout (the TypeScript sources beside this file)
// it runs harness/cli as it is; an installed package has only the compiled dist/. Either way
// tsx is registered first, so a team's suites may be TypeScript without a build of their own.
import { existsSync } from "node:fs";
import { register } from "tsx/esm/api";

register();
const source = existsSync(new URL("../harness/cli/main.ts", import.meta.url));
const cli = source ? "../harness/cli" : "../dist/harness/cli";
const ext = source ? "ts" : "js";
const { main } = await import(`${cli}/main.${ext}`);
process.exitCode = await main(process.argv.slice(2));
// Done: something a failed test left open must not keep a nightly waiting.
const { exitWhenDone } = await import(`${cli}/exit-watchdog.${ext}`);
exitWhenDone();
