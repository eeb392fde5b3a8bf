/**
 * Once a `hil` command is done, whatever it left open (a port a failed test never closed, a
 * child, a socket) must not keep a nightly waiting: after `graceMs` for pending output, name
 * what is still open on stderr and exit. The timer is unref'd, so a process with nothing
 * left open ends as usual, at once.
 */
export function exitWhenDone(graceMs = 5000): void {
  setTimeout(() => {
    const open = process.getActiveResourcesInfo().filter((r) => r !== "Timeout");
    console.error(`hil: exiting with resources still open: ${open.join(", ") || "none named"}`);
    process.exit();
  }, graceMs).unref();
}
