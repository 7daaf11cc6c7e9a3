/**
 * JSON output byte-identical to Go's encoding/json, for meta.json and marker files
 * that Prometheus and Thanos tools diff, hash or re-read.
 *
 * What Go does and JSON.stringify does not:
 * - struct fields come out in declaration order (a GoStruct keeps an explicit order),
 *   while maps (`map[string]T`, and `any` objects after a decode) have their keys sorted
 *   bytewise;
 * - strings escape `<`, `>`, `&` as \u003c \u003e \u0026 (HTML-safe default) and always
 *   U+2028/U+2029; control characters use \b \f \n \r \t or \u00xx (lowercase hex);
 * - MarshalIndent keeps `{}` and `[]` compact and puts `": "` after keys.
 * Floats format like JavaScript's Number#toString in the ranges Go uses (shortest
 * round-trip digits, exponent below 1e-6 and from 1e21), so `String(n)` serves both.
 */
import { compareStrings } from "../encoding/utf8.ts";

/** An object whose keys are written in the given order (a Go struct). */
export class GoStruct {
  readonly fields: [string, GoJson][];
  constructor(fields: [string, GoJson][] = []) {
    this.fields = fields;
  }
  /** Append a field; returns this for chaining. */
  set(key: string, value: GoJson): this {
    this.fields.push([key, value]);
    return this;
  }
}

/** A JSON value to write the Go way. Plain objects are maps: their keys get sorted. */
export type GoJson =
  | null
  | boolean
  | number
  | bigint
  | string
  | readonly GoJson[]
  | GoStruct
  | { readonly [k: string]: GoJson };

/** json.Marshal (indent "") or json.MarshalIndent(v, "", indent). No trailing newline. */
export function goMarshal(v: GoJson, indent = ""): string {
  const out: string[] = [];
  write(v, out, indent, "\n");
  return out.join("");
}

function write(v: GoJson, out: string[], indent: string, nl: string): void {
  if (v === null) {
    out.push("null");
    return;
  }
  switch (typeof v) {
    case "boolean":
      out.push(v ? "true" : "false");
      return;
    case "number":
      out.push(goNumber(v));
      return;
    case "bigint":
      out.push(v.toString());
      return;
    case "string":
      out.push(goString(v));
      return;
  }
  let entries: [string, GoJson][];
  if (Array.isArray(v)) {
    const arr = v as readonly GoJson[];
    if (arr.length === 0) {
      out.push("[]");
      return;
    }
    const inner = indent ? nl + indent : "";
    out.push("[");
    for (let i = 0; i < arr.length; i++) {
      if (i > 0) out.push(",");
      out.push(inner);
      write(arr[i]!, out, indent, inner);
    }
    out.push(indent ? nl : "", "]");
    return;
  }
  if (v instanceof GoStruct) entries = v.fields;
  else {
    entries = Object.entries(v as { [k: string]: GoJson });
    entries.sort((a, b) => compareStrings(a[0], b[0]));
  }
  if (entries.length === 0) {
    out.push("{}");
    return;
  }
  const inner = indent ? nl + indent : "";
  out.push("{");
  for (let i = 0; i < entries.length; i++) {
    if (i > 0) out.push(",");
    out.push(inner, goString(entries[i]![0]), indent ? ": " : ":");
    write(entries[i]![1], out, indent, inner);
  }
  out.push(indent ? nl : "", "}");
}

/** A float64 or integer as Go writes it. */
export function goNumber(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`json: unsupported value: ${n}`);
  // Integer fields cannot hold -0; Go would print a float64 -0 as "-0", which block
  // metadata never contains.
  if (n === 0) return "0";
  return String(n);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: Go escapes exactly these control characters
const NEEDS_ESCAPE = /[\u0000-\u001f"\\<>&\u2028\u2029\ud800-\udfff]/;
const HEX = "0123456789abcdef";

/** A JSON string literal with Go's default (HTML-safe) escaping. */
export function goString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let r = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c < 0x20) {
      switch (c) {
        case 0x08:
          esc = "\\b";
          break;
        case 0x0c:
          esc = "\\f";
          break;
        case 0x0a:
          esc = "\\n";
          break;
        case 0x0d:
          esc = "\\r";
          break;
        case 0x09:
          esc = "\\t";
          break;
        default:
          esc = "\\u00" + HEX[c >> 4] + HEX[c & 15];
      }
    } else if (c === 0x22) esc = '\\"';
    else if (c === 0x5c) esc = "\\\\";
    else if (c === 0x3c || c === 0x3e || c === 0x26) esc = "\\u00" + HEX[c >> 4] + HEX[c & 15];
    else if (c === 0x2028) esc = "\\u2028";
    else if (c === 0x2029) esc = "\\u2029";
    else if (c >= 0xd800 && c <= 0xdfff) {
      // A valid pair passes through; a lone surrogate is what Go holds as U+FFFD.
      if (c <= 0xdbff && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          i++;
          continue;
        }
      }
      esc = "\ufffd";
    }
    if (esc !== undefined) {
      r += s.slice(start, i) + esc;
      start = i + 1;
    }
  }
  return r + s.slice(start) + '"';
}

/**
 * Convert a decoded JSON tree to GoJson. `structOrder` keeps objects' key order (values
 * that Go decodes into structs); otherwise objects are maps and get sorted on output
 * (values Go decodes into `any`, e.g. Thanos `extensions`).
 */
export function opaqueJson(v: unknown, structOrder: boolean): GoJson {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case "boolean":
    case "number":
    case "bigint":
    case "string":
      return v;
  }
  if (Array.isArray(v)) return v.map((x) => opaqueJson(x, structOrder));
  if (typeof v === "object") {
    const entries: [string, GoJson][] = [];
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x !== undefined) entries.push([k, opaqueJson(x, structOrder)]);
    }
    if (structOrder) return new GoStruct(entries);
    return Object.fromEntries(entries) as { [k: string]: GoJson };
  }
  throw new TypeError(`json: unsupported type ${typeof v}`);
}

/**
 * A Go time.Time as MarshalJSON writes it (RFC 3339 with up to 9 fraction digits,
 * trailing zeros dropped, zero offset written as "Z"), given RFC 3339 text. Undefined
 * is Go's zero time.
 */
export function goTime(s: string | undefined): string {
  if (s === undefined) return "0001-01-01T00:00:00Z";
  const m = RFC3339.exec(s);
  if (!m) throw new RangeError(`not an RFC 3339 time: ${JSON.stringify(s)}`);
  let frac = (m[2] ?? "").slice(0, 9).replace(/0+$/, "");
  if (frac) frac = "." + frac;
  const zone = m[3] === "Z" || m[3] === "+00:00" || m[3] === "-00:00" ? "Z" : m[3];
  return `${m[1]}${frac}${zone}`;
}

export const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;
