/**
 * A dependency-free structured logger for the local runtime, the CLI and tests: one JSON object
 * per line, `{time, level, event, ...bound fields, ...fields}`. Lambda uses Powertools instead
 * (@strata/lambda's adapters), which writes the same fields.
 */
import type { LogFields, Logger } from "./ports.ts";

export function jsonLogger(write: (line: string) => void, bound: LogFields = {}, now: () => number = Date.now): Logger {
  const emit = (level: string) => (event: string, fields?: LogFields) =>
    write(JSON.stringify({ time: new Date(now()).toISOString(), level, event, ...bound, ...fields }, bigintSafe));
  return {
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    child: (fields) => jsonLogger(write, { ...bound, ...fields }, now),
  };
}

/** BlockMeta stats are bigint; JSON.stringify would throw on them. */
function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
