/**
 * ULIDs as oklog/ulid writes them (block ids, directory names): 26 characters of
 * Crockford base32, the first 10 a 48-bit millisecond timestamp and the last 16 80 bits
 * of randomness, both big-endian. Text order equals byte order equals time order.
 */

export const ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export const ULID_LENGTH = 26;
export const ULID_MAX_TIME = 2 ** 48 - 1;

/** Character code → 5-bit value; lowercase accepted as oklog does; I, L, O, U are invalid (-1). */
const DEC = new Int8Array(128).fill(-1);
for (let i = 0; i < ULID_ALPHABET.length; i++) {
  DEC[ULID_ALPHABET.charCodeAt(i)] = i;
  DEC[ULID_ALPHABET.toLowerCase().charCodeAt(i)] = i;
}

/**
 * A new ULID for `timeMs` (default now) with 10 random bytes (default from
 * globalThis.crypto). Pass `random` for reproducible ids in tests.
 */
export function newUlid(timeMs: number = Date.now(), random?: Uint8Array): string {
  if (!(Number.isInteger(timeMs) && timeMs >= 0 && timeMs <= ULID_MAX_TIME)) {
    throw new RangeError(`ULID time ${timeMs} outside [0, 2^48)`);
  }
  let rnd = random;
  if (rnd === undefined) rnd = globalThis.crypto.getRandomValues(new Uint8Array(10));
  else if (rnd.length !== 10) throw new RangeError(`ULID randomness must be 10 bytes, got ${rnd.length}`);

  // Time: 10 characters, 5 bits each, least significant last (the top one holds 3 bits).
  let s = "";
  let t = timeMs;
  for (let i = 0; i < 10; i++) {
    const v = t % 32;
    s = ULID_ALPHABET[v] + s;
    t = (t - v) / 32;
  }
  // Randomness: 80 bits → exactly 16 characters.
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < 10; i++) {
    acc = ((acc << 8) | rnd[i]!) & 0xfff; // never more than 12 live bits
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      s += ULID_ALPHABET[(acc >>> bits) & 31];
    }
  }
  return s;
}

/** Whether `s` parses as a ULID (oklog strict parse: length, alphabet, no 128-bit overflow). */
export function isUlid(s: string): boolean {
  if (typeof s !== "string" || s.length !== ULID_LENGTH) return false;
  for (let i = 0; i < ULID_LENGTH; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || DEC[c]! < 0) return false;
  }
  // 26 characters carry 130 bits; the first may only use the low 3.
  return DEC[s.charCodeAt(0)]! <= 7;
}

/** The millisecond timestamp in a ULID. */
export function ulidTime(s: string): number {
  if (!isUlid(s)) throw new RangeError(`not a ULID: ${JSON.stringify(s)}`);
  let t = 0;
  for (let i = 0; i < 10; i++) t = t * 32 + DEC[s.charCodeAt(i)]!;
  return t;
}

/** Canonical (uppercase) form, as Go re-encodes a parsed ULID. */
export function normalizeUlid(s: string): string {
  return s.toUpperCase();
}

/** Order of the underlying 128-bit values (case-insensitive): -1, 0 or 1. */
export function compareUlids(a: string, b: string): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const dx = x < 128 ? DEC[x]! : -1;
    const dy = y < 128 ? DEC[y]! : -1;
    if (dx >= 0 && dy >= 0) {
      if (dx !== dy) return dx < dy ? -1 : 1;
    } else return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
