export * from "./schema.ts";
export * from "./options.ts";
export { planGroup, planAll, type GroupPlan, type PlanAllResult } from "./planner.ts";
export { planId, type PlanIdFields } from "./id.ts";
export { exactOutputLabels } from "./labels.ts";
export { estimateIndexBytes, guardIndexSize } from "./index-guard.ts";
export { splitByRange, groupByRange, overlappingRuns, rangeStart, blockRangeOf } from "./windows.ts";
export { guardBudget, estimateDraft, type BudgetOptions, type RefusedJob } from "./budget-guard.ts";
