/**
 * UTF-8 helpers and Go's string order. TSDB orders symbols and labels bytewise on UTF-8,
 * which is code point order; JavaScript's `<` compares UTF-16 units, which differs when
 * a character outside the BMP (a surrogate pair, 0xD800-0xDFFF) meets one in 0xE000-0xFFFF.
 */
const decoder = new TextDecoder("utf-8");
const encoder = new TextEncoder();

export function utf8Decode(b: Uint8Array, start: number, end: number): string {
  // Short ASCII strings (most label names/values) are cheaper to build by hand.
  if (end - start <= 16) {
    let s = "";
    for (let i = start; i < end; i++) {
      const c = b[i]!;
      if (c >= 0x80) return decoder.decode(b.subarray(start, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decoder.decode(b.subarray(start, end));
}

export function utf8Encode(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Bytes the UTF-8 encoding of `s` takes, without encoding it. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

export function encodeInto(s: string, dst: Uint8Array, at: number): number {
  return encoder.encodeInto(s, dst.subarray(at)).written;
}

/** Go string comparison (bytewise UTF-8) for JS strings: -1, 0 or 1. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        // Move surrogates (astral code points) above 0xE000-0xFFFF.
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x < y ? -1 : 1;
    }
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Bytewise comparison of byte strings. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

const fatalDecoder = new TextDecoder("utf-8", { fatal: true });
export function isValidUtf8(b: Uint8Array): boolean {
  try {
    fatalDecoder.decode(b);
    return true;
  } catch {
    return false;
  }
}
