// workerpool's worker script: registers the shared workloads.
import workerpool from "workerpool";
import { cpu, inc } from "./jobs.mjs";

workerpool.worker({ inc, cpu });
