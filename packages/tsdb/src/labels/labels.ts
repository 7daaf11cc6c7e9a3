import { compareStrings } from "../encoding/utf8.ts";

export interface Label {
  readonly name: string;
  readonly value: string;
}

/** A label set, sorted by name (Go bytewise order), names unique. */
export type Labels = readonly Label[];

export const METRIC_NAME = "__name__";

/** Prometheus labels.Compare: pairwise name then value; on a common prefix the shorter set sorts first. */
export function compareLabels(a: Labels, b: Labels): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name) return compareStrings(x.name, y.name);
    if (x.value !== y.value) return compareStrings(x.value, y.value);
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function labelsEqual(a: Labels, b: Labels): boolean {
  return compareLabels(a, b) === 0;
}

/** Build a sorted label set from a plain object. */
export function labelsFrom(obj: Record<string, string>): Label[] {
  return Object.entries(obj)
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => compareStrings(a.name, b.name));
}

export function getLabel(ls: Labels, name: string): string | undefined {
  for (const l of ls) if (l.name === name) return l.value;
  return undefined;
}

/** As Go's labels.Labels.String(): `{a="1", b="2"}`, values quoted like strconv.Quote. */
export function labelsToString(ls: Labels): string {
  let s = "{";
  for (let i = 0; i < ls.length; i++) {
    if (i > 0) s += ", ";
    s += ls[i]!.name + "=" + goQuote(ls[i]!.value);
  }
  return s + "}";
}

const PRINTABLE = /[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u;

/** Go strconv.Quote: printable runes kept, the rest escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x22) out += '\\"';
    else if (cp === 0x5c) out += "\\\\";
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (cp >= 0x80 && cp !== 0xfffd && PRINTABLE.test(ch) && !(cp >= 0xd800 && cp <= 0xdfff)) out += ch;
    else if (cp === 0xfffd) out += ch;
    else if (cp === 7) out += "\\a";
    else if (cp === 8) out += "\\b";
    else if (cp === 12) out += "\\f";
    else if (cp === 10) out += "\\n";
    else if (cp === 13) out += "\\r";
    else if (cp === 9) out += "\\t";
    else if (cp === 11) out += "\\v";
    else if (cp < 0x80) out += "\\x" + cp.toString(16).padStart(2, "0");
    else if (cp < 0x10000) out += "\\u" + cp.toString(16).padStart(4, "0");
    else out += "\\U" + cp.toString(16).padStart(8, "0");
  }
  return out + '"';
}
