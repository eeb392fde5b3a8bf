/**
 * One worker thread's share of a campaign: runs it and posts the result. Started by
 * runCampaignInWorkers with the campaign's options and its worker share in workerData;
 * imported anywhere else (a test that loads every module) it does nothing.
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { type CampaignOptions, runCampaign } from "./campaign.js";

if (!isMainThread && parentPort && workerData) {
  const result = await runCampaign(workerData as CampaignOptions);
  parentPort.postMessage(result);
}
