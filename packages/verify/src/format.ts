import type { Problem } from "./report.ts";

/** One readable line: `<block> <file>@<offset> <code> [severity]: message {series} (expected …, found …)`. */
export function formatProblem(block: string, p: Problem): string {
  let where = p.file ?? "";
  if (p.offset !== undefined) where += `@${p.offset}`;
  let s = `${block}${where ? " " + where : ""}: ${p.code} [${p.severity}]: ${p.message}`;
  if (p.series) s += ` ${p.series}`;
  if (p.expected !== undefined || p.found !== undefined) {
    const parts: string[] = [];
    if (p.expected !== undefined) parts.push(`expected ${p.expected}`);
    if (p.found !== undefined) parts.push(`found ${p.found}`);
    s += ` (${parts.join(", ")})`;
  }
  return s;
}
