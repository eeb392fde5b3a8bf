/** Moved to harness/expose/ (the bench uses it too); kept here for the specs that import it. */
export * from "../../harness/expose/emulator-process.js";
