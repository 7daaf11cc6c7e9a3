// The worker's and the queue's sizing: defined beside the planner that sizes jobs against it.
export * from "../packages/pipeline/src/sizing.ts";
