// The floor: a hand-written worker answering one postMessage per job ([id, fn, arg] -> [id, result]).
import { parentPort } from "node:worker_threads";
import { cpu, inc } from "./jobs.mjs";

const fns = [inc, cpu];
parentPort.on("message", (m) => {
  parentPort.postMessage([m[0], fns[m[1]](m[2])]);
});
