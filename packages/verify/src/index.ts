// @strata/verify: find every broken block, explain it precisely, repair what can be repaired.
export { verifyBlock, type VerifyOptions } from "./verify.ts";
export { VerifyError } from "./errors.ts";
export { repairBlock, NotRepairableError, type RepairOptions } from "./repair.ts";
export {
  Code,
  SEVERITY,
  type ProblemCode,
  type Severity,
  type Problem,
  type VerifyReport,
  type VerifyStats,
} from "./report.ts";
export { formatProblem } from "./format.ts";
