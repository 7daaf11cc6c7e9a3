/**
 * Postings lists (§10 items 21-23): bounds, CRC, len = 4 + 4n, strictly increasing ids
 * that name real series, Thanos' contiguous layout, and the cross-check in both
 * directions against the series section. Lists are read one at a time; the cross-check
 * compares per-name fingerprints (pair-hash.ts) and only on a mismatch re-reads that
 * name's lists and re-walks the series to name the exact series and list.
 */
import { crc32c, labelsToString, type BlockSource } from "@strata/tsdb";
import { findSymbol, type IndexHead } from "./index-head.ts";
import { PairHashes } from "./pair-hash.ts";
import { Code, Problems, type VerifyStats } from "./report.ts";
import { labelsOf, type SeriesResult } from "./series-check.ts";
import { scanSeries } from "./series-scan.ts";
import { Window } from "./window.ts";

const FILE = "index";
/** At most this many label names get the (slower) locating pass. */
const MAX_LOCATE_NAMES = 5;

interface ListRead {
  ok: boolean;
  end: number;
  ids: Uint32Array;
}

export async function checkPostings(
  h: IndexHead,
  series: SeriesResult | undefined,
  problems: Problems,
  stats: VerifyStats,
  _block?: BlockSource,
): Promise<void> {
  const t = h.table;
  if (!t) return;
  const win = new Window(h.src);
  const lists = new PairHashes();
  const unreadable = new Set<number>();
  const ids = series?.state.intact ? series.ids : undefined;
  let prevEnd = -1;
  let layoutReported = false;
  let all: Uint32Array | undefined;
  stats.postingsLists = t.names.length;
  for (let i = 0; i < t.names.length; i++) {
    const off = t.offsets[i]!;
    if (off < 0) continue;
    const isAll = i === 0 && t.names[0] === "" && t.values[0] === "";
    const key = `(${JSON.stringify(t.names[i])}, ${JSON.stringify(t.values[i])})`;
    const nameOrd = findSymbol(h, t.names[i]!);
    const valueOrd = findSymbol(h, t.values[i]!);
    if (!layoutReported && h.version !== 1 && (off % 4 !== 0 || (prevEnd >= 0 && off !== prevEnd))) {
      problems.add({
        code: Code.PostingsLayout,
        file: FILE,
        offset: off,
        message: `postings list ${key} is not 4-aligned right after the previous list (Thanos' index-header expects contiguous lists)`,
        expected: prevEnd >= 0 ? String(prevEnd) : "a multiple of 4",
        found: String(off),
      });
      layoutReported = true;
    }
    const r = await readList(win, h, off, key, problems);
    prevEnd = r.end;
    if (!r.ok) {
      if (nameOrd >= 0) unreadable.add(nameOrd);
      continue;
    }
    const list = r.ids;
    if (list.length === 0 && !isAll)
      problems.add({ code: Code.PostingsEmpty, file: FILE, offset: off, message: `postings list ${key} is empty` });
    let prev = -1;
    let unsorted = false;
    let dangling = false;
    for (let j = 0; j < list.length; j++) {
      const id = list[j]!;
      if (id <= prev && !unsorted) {
        unsorted = true;
        problems.add({
          code: Code.PostingsUnsorted,
          file: FILE,
          offset: off + 8 + 4 * j,
          message: `postings list ${key} ids not strictly increasing`,
          expected: `> ${prev}`,
          found: String(id),
        });
      }
      prev = id;
      const valid = ids === undefined || (id >>> 3 < ids.length && (ids[id >>> 3]! & (1 << (id & 7))) !== 0);
      if (!valid) {
        if (!dangling)
          problems.add({
            code: Code.PostingsDangling,
            file: FILE,
            offset: off + 8 + 4 * j,
            message: `postings list ${key} refers to series id ${id}, which is not a series entry`,
            found: String(id),
          });
        dangling = true;
        continue;
      }
      if (!isAll && nameOrd >= 0 && valueOrd >= 0) lists.add(id, nameOrd, valueOrd);
    }
    if (!isAll && list.length > 0 && (nameOrd < 0 || valueOrd < 0)) {
      problems.add({
        code: Code.PostingsExtraSeries,
        file: FILE,
        offset: off,
        message: `postings list ${key} names a label pair missing from the symbol table, so no series carries it`,
      });
    }
    if (isAll) all = list.slice();
  }
  if (
    h.version !== 1 &&
    h.toc.labelIndicesTable === h.toc.postingsTable &&
    prevEnd >= 0 &&
    prevEnd !== h.toc.postingsTable &&
    !layoutReported
  ) {
    problems.add({
      code: Code.PostingsLayout,
      file: FILE,
      offset: prevEnd,
      message: "last postings list does not end where the postings offset table starts",
      expected: String(h.toc.postingsTable),
      found: String(prevEnd),
    });
  }
  if (!series?.state.intact) return;

  // The all-postings list must hold exactly the series ids.
  if (all && ids) {
    const seen = new Uint8Array(ids.length);
    for (const id of all) if (id >>> 3 < ids.length) seen[id >>> 3]! |= (1 << (id & 7)) & ids[id >>> 3]!;
    for (let k = 0, reported = 0; k < ids.length && reported < 100; k++) {
      const missing = ids[k]! & ~seen[k]!;
      if (missing === 0) continue;
      for (let bit = 0; bit < 8; bit++) {
        if (!(missing & (1 << bit))) continue;
        const id = k * 8 + bit;
        problems.add({
          code: Code.PostingsMissingSeries,
          file: FILE,
          offset: h.version === 1 ? id : id * 16,
          message: `series id ${id} is missing from the all-postings list`,
        });
        reported++;
      }
    }
  } else if (!all && stats.series > 0 && t.names[0] === "" && t.values[0] === "") {
    // Unreadable all-postings list: already reported.
  }

  // Both directions, per label name.
  let located = 0;
  for (const name of new Set([...series.hashes.names(), ...lists.names()])) {
    if (unreadable.has(name) || series.hashes.equalFor(lists, name)) continue;
    if (located++ >= MAX_LOCATE_NAMES) {
      problems.add({
        code: Code.PostingsMissingSeries,
        file: FILE,
        message: `postings of label ${JSON.stringify(h.symbols[name])} disagree with the series (not located: too many names disagree)`,
      });
      continue;
    }
    await locate(h, win, name, problems);
  }
}

async function readList(win: Window, h: IndexHead, off: number, key: string, problems: Problems): Promise<ListRead> {
  const fail = { ok: false, end: -1, ids: new Uint32Array(0) };
  const head = await win.get(off, 8);
  const hb = head.b;
  const a = head.at;
  const len = ((hb[a]! << 24) | (hb[a + 1]! << 16) | (hb[a + 2]! << 8) | hb[a + 3]!) >>> 0;
  if (off + 8 + len > h.limit) {
    problems.add({
      code: Code.OutOfBounds,
      file: FILE,
      offset: off,
      message: `postings list ${key} runs past the end of the data`,
      expected: `len ≤ ${h.limit - off - 8}`,
      found: String(len),
    });
    return fail;
  }
  const { b, at } = await win.get(off, 8 + len);
  const end = off + 8 + len;
  const want = ((b[at + 4 + len]! << 24) | (b[at + 5 + len]! << 16) | (b[at + 6 + len]! << 8) | b[at + 7 + len]!) >>> 0;
  const got = crc32c(b, at + 4, at + 4 + len);
  if (want !== got) {
    problems.add({
      code: Code.BadChecksum,
      file: FILE,
      offset: off + 4 + len,
      message: `postings list ${key} CRC32C mismatch`,
      expected: `stored 0x${want.toString(16).padStart(8, "0")}`,
      found: `0x${got.toString(16).padStart(8, "0")}`,
    });
    return { ...fail, end };
  }
  const n = len >= 4 ? ((b[at + 4]! << 24) | (b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!) >>> 0 : -1;
  if (len !== 4 + 4 * n) {
    problems.add({
      code: Code.OutOfBounds,
      file: FILE,
      offset: off,
      message: `postings list ${key} length does not match its count`,
      expected: `len = 4 + 4·n`,
      found: `len ${len}, n ${n}`,
    });
    return { ...fail, end };
  }
  const ids = new Uint32Array(n);
  const v = new DataView(b.buffer, b.byteOffset + at + 8, 4 * n);
  for (let j = 0; j < n; j++) ids[j] = v.getUint32(4 * j, false);
  return { ok: true, end, ids };
}

/** Name the series and lists behind a fingerprint mismatch for one label name. */
async function locate(h: IndexHead, win: Window, name: number, problems: Problems): Promise<void> {
  const t = h.table!;
  const nameStr = h.symbols[name];
  const keys: bigint[] = [];
  for (let i = 0; i < t.names.length; i++) {
    if (t.names[i] !== nameStr || t.offsets[i]! < 0) continue;
    const v = findSymbol(h, t.values[i]!);
    if (v < 0) continue;
    const r = await readList(win, h, t.offsets[i]!, "", new Problems(0));
    for (const id of r.ids) keys.push((BigInt(id) << 32n) | BigInt(v));
  }
  const sorted = BigUint64Array.from(keys).sort();
  let j = 0;
  const silent = new Problems(0);
  for await (const s of scanSeries(h, silent, { intact: true })) {
    const id = BigInt(s.id);
    while (j < sorted.length && sorted[j]! >> 32n < id) j++;
    const listed: number[] = [];
    while (j < sorted.length && sorted[j]! >> 32n === id) listed.push(Number(sorted[j++]! & 0xffffffffn));
    const carried: number[] = [];
    for (let i = 0; i < s.numLabels; i++) if (s.labels[2 * i] === name) carried.push(s.labels[2 * i + 1]!);
    for (const v of carried) {
      if (!listed.includes(v)) {
        problems.add({
          code: Code.PostingsMissingSeries,
          file: FILE,
          offset: s.offset,
          series: labelsToString(labelsOf(h, s)),
          message: `series ${s.id} is missing from postings list (${JSON.stringify(nameStr)}, ${JSON.stringify(h.symbols[v])})`,
        });
      }
    }
    for (const v of listed) {
      if (!carried.includes(v)) {
        problems.add({
          code: Code.PostingsExtraSeries,
          file: FILE,
          offset: s.offset,
          series: labelsToString(labelsOf(h, s)),
          message: `postings list (${JSON.stringify(nameStr)}, ${JSON.stringify(h.symbols[v])}) holds series ${s.id}, which does not carry that label`,
        });
      }
    }
  }
}
