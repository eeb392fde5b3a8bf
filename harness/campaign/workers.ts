/**
 * A campaign spread over worker threads, like the DFU sweep in the bench: worker w of W runs
 * every W-th plan of the shard; the merged result is the single-thread one.
 */
import { Worker } from "node:worker_threads";
import { type CampaignOptions, type CampaignResult, mergeResults, runCampaign } from "./campaign.js";

export async function runCampaignInWorkers(opts: CampaignOptions, workers: number): Promise<CampaignResult> {
  if (workers <= 1) return runCampaign(opts);
  // Built (dist/, an installed package): the compiled worker. From the sources: Node 20 workers
  // do not inherit tsx's loader, so register it, then load the TypeScript worker. Both are
  // named by URL from this module, never by the caller's working directory (an eval'd worker
  // resolves bare names from there, which fails in a project outside this one).
  const compiled = import.meta.url.endsWith(".js");
  const url = new URL(compiled ? "./worker.js" : "./worker.ts", import.meta.url);
  const boot = compiled
    ? `import(${JSON.stringify(url.href)})`
    : `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  const parts = await Promise.all(
    Array.from(
      { length: workers },
      (_, index) =>
        new Promise<CampaignResult>((resolve, reject) => {
          const worker = new Worker(boot, {
            eval: true,
            workerData: { ...opts, worker: { index, count: workers } },
          });
          worker.once("message", (r: CampaignResult) => {
            resolve(r);
            void worker.terminate();
          });
          worker.once("error", reject);
          worker.once("exit", (code) => {
            if (code !== 0)
              reject(new Error(`campaign worker ${index + 1}/${workers} exited with code ${code}`));
          });
        }),
    ),
  );
  return mergeResults(parts);
}
