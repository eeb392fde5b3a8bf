/**
 * The headless Chromium the report tests open pages in (Debian package `chromium`; each test
 * keeps its file checks and skips the browser part when it is missing).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Headless, no sandbox or GPU, and nothing that reaches the network on its own. */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The browser's command name, or undefined when it is not installed. */
export async function chromium(): Promise<string | undefined> {
  for (const name of ["chromium", "chromium-browser"]) {
    try {
      await run(name, ["--version"]);
      return name;
    } catch {
      // not installed under this name
    }
  }
  return undefined;
}
