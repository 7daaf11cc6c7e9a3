// The block commands against a bucket (`file://` or `s3://` over the emulator), run as a user
// would: verify, inspect, dump, rewrite, compact, downsample and plan take block URLs, write
// their outputs into the bucket, and report bad input on one line with the CLI's exit codes.
// Shared by block-url-file.test.ts and block-url-s3.test.ts.
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirBlockSource } from "@strata/tsdb/node";
import { BucketLayout, ROOT_TENANT, uploadBlock, type ObjectStore } from "@strata/bucket";
import { makeBenchBlock } from "@strata/testkit";
import { runStrata } from "@strata/testkit/cli";
import { TempDirs } from "@strata/testkit/tmp";

/** A bucket to run the commands against; `env` reaches the child CLI (an emulator's credentials). */
export interface BucketUnderTest {
  url: string;
  store: ObjectStore;
  env: Record<string, string>;
  close(): Promise<void>;
}

const layout = new BucketLayout({ rootTenant: ROOT_TENANT });

/** Small blocks: 40 series of an hour each (makeBenchBlock is seeded: two of them are the same samples). */
const SERIES = 20;
const SAMPLES = 240;

/** `more` adds tests of the bucket's own (run while it is open), given the CLI with its environment. */
export function blockUrlSuite(
  name: string,
  open: () => Promise<BucketUnderTest>,
  more?: (strata: (...args: string[]) => ReturnType<typeof runStrata>) => void,
): void {
  describe(name, () => {
    const tmp = new TempDirs();
    let bucket: BucketUnderTest;
    let a: string; // team-a, and a copy at the bucket root
    let b: string; // team-a, overlapping a
    let corrupt: string; // broken/: index magic zeroed
    let badStats: string; // broken/: meta.json stats wrong (repairable)
    let url: string;
    const strata = (...args: string[]) => runStrata(args, { env: bucket.env });

    beforeAll(async () => {
      bucket = await open();
      url = bucket.url;
      const dir = await tmp.make("block-url");
      a = await makeBenchBlock(dir, SERIES, SAMPLES);
      b = await makeBenchBlock(dir, SERIES, SAMPLES);
      const c = await makeBenchBlock(dir, SERIES, SAMPLES);
      const d = await makeBenchBlock(dir, SERIES, SAMPLES);
      for (const [tenant, block] of [
        ["team-a", a],
        ["team-a", b],
        [ROOT_TENANT, a],
        ["broken", c],
        ["broken", d],
      ] as const) {
        await uploadBlock(bucket.store, layout, tenant, basename(block), new DirBlockSource(block));
      }
      corrupt = basename(c);
      badStats = basename(d);
      const index = await readFile(join(c, "index"));
      index.fill(0, 0, 4);
      await bucket.store.put(`broken/${corrupt}/index`, index);
      const meta = JSON.parse(await readFile(join(d, "meta.json"), "utf8"));
      meta.stats.numSamples = 1;
      await bucket.store.put(`broken/${badStats}/meta.json`, JSON.stringify(meta));
    });

    afterAll(async () => {
      await bucket?.close();
      await tmp.cleanup();
    });

    const A = () => `${url}/team-a/${basename(a)}`;
    const B = () => `${url}/team-a/${basename(b)}`;

    it("verify, inspect and dump read a block in place, as from its directory", async () => {
      const [v, root, i, dumpUrl, dumpDir] = await Promise.all([
        strata("verify", A(), B()),
        strata("verify", `${url}/__root__/${basename(a)}`),
        strata("inspect", A(), "--json"),
        strata("dump", A()),
        strata("dump", a),
      ]);
      expect(v.stderr).toBe("");
      expect(v.code).toBe(0);
      expect(v.stdout).toContain(
        `ok (${2 * SERIES} series, ${2 * SERIES * 2} chunks, ${2 * SERIES * SAMPLES} samples)`,
      );
      expect(v.stdout.trim().split("\n")).toHaveLength(2);
      expect(root.code).toBe(0);
      expect(i.code).toBe(0);
      const report = JSON.parse(i.stdout);
      expect(report.dir).toBe(A());
      expect(report.stats).toMatchObject({ series: 2 * SERIES, samples: 2 * SERIES * SAMPLES });
      expect(dumpUrl.code).toBe(0);
      expect(dumpUrl.stdout.split("\n")).toHaveLength(2 * SERIES * SAMPLES + 1);
      expect(dumpUrl.stdout === dumpDir.stdout).toBe(true);
    });

    it("rewrite, compact and downsample write into the bucket; the outputs pass verify on their URLs", async () => {
      const [rw, cp, ds] = await Promise.all([
        strata("rewrite", A(), "--out", `${url}/team-b`),
        strata("compact", A(), B(), "--out", `${url}/team-c`),
        strata("downsample", A(), "--resolution", "5m", "--workers", "0", "--out", `${url}/__root__`),
      ]);
      for (const r of [rw, cp, ds]) {
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
      }
      const out = (r: { stdout: string }) => r.stdout.trim();
      expect(out(rw)).toMatch(new RegExp(`^${reEscape(url)}/team-b/[0-9A-Z]{26}$`));
      expect(out(cp)).toMatch(new RegExp(`^${reEscape(url)}/team-c/[0-9A-Z]{26}$`));
      expect(out(ds)).toMatch(new RegExp(`^${reEscape(url)}/(__root__/)?[0-9A-Z]{26}$`));
      // meta.json is written last, so a listed block is a whole block.
      const v = await strata("verify", out(rw), out(cp), out(ds));
      expect(v.stderr).toBe("");
      expect(v.code).toBe(0);
      expect(v.stdout.trim().split("\n")).toHaveLength(3);
      // Rewriting and compacting twins keep every sample.
      const [d0, d1, d2] = await Promise.all([strata("dump", A()), strata("dump", out(rw)), strata("dump", out(cp))]);
      expect(d1.stdout === d0.stdout && d2.stdout === d0.stdout).toBe(true);
      const i = await strata("inspect", out(ds), "--json");
      expect(i.stdout).toContain('"resolution": 300000');
    });

    it("verify --repair writes the fixed copy into the bucket", async () => {
      const r = await strata("verify", `${url}/broken/${badStats}`, "--repair", "--out", `${url}/fixed`);
      expect(r.code).toBe(1); // the original still fails
      expect(r.stdout).toContain("MetaStatsMismatch");
      const fixed = r.stdout.trim().split("\n").at(-1)!;
      expect(fixed).toMatch(new RegExp(`^${reEscape(url)}/fixed/[0-9A-Z]{26}$`));
      const v = await strata("verify", fixed);
      expect(v.stderr).toBe("");
      expect(v.code).toBe(0);
    });

    it("plan reads a bucket URL, all tenants or one", async () => {
      const [all, one, json, root] = await Promise.all([
        strata("plan", url),
        strata("plan", url, "--tenant", "team-a"),
        strata("plan", url, "--tenant", "team-a", "--json"),
        strata("plan", url, "--tenant", "__root__", "--json"),
      ]);
      expect(all.stderr).toBe("");
      expect(all.code).toBe(0);
      expect(all.stdout).toContain("tenant team-a");
      expect(all.stdout).toContain("tenant broken");
      expect(one.code).toBe(0);
      expect(one.stdout).not.toContain("tenant broken");
      expect(one.stdout).toContain(`plan vertical`);
      expect(one.stdout).toContain(`    ${basename(a)}\n    ${basename(b)}`);
      const groups = JSON.parse(json.stdout).groups;
      expect(groups).toHaveLength(1);
      expect(groups[0].tenant).toBe("team-a");
      expect(groups[0].plans[0].inputs).toEqual([basename(a), basename(b)].sort());
      // The root tenant's blocks only: the copy of a at the bucket's root (and what tests before wrote there).
      const rootGroups = JSON.parse(root.stdout).groups as { tenant: string; blocks: string[] }[];
      expect(rootGroups.every((g) => g.tenant === "")).toBe(true);
      expect(rootGroups.flatMap((g) => g.blocks)).toContain(basename(a));
    });

    it("bad input: one line and the usual exit codes", async () => {
      const missing = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
      const cases: [string[], number, string][] = [
        [["verify", `${url}/team-a/not-a-ulid`], 2, `last path segment "not-a-ulid" is not a block ULID`],
        [["inspect", "gs://bucket/team-a/" + missing], 2, "invalid block URL"],
        [["dump", `${url}/team-a//${missing}`], 2, "empty path segment"],
        [["verify", `${url}/team-a/${missing}`], 1, `no meta.json at ${url}/team-a/${missing}`],
        [["dump", `${url}/team-x/${missing}`], 1, `unknown tenant "team-x" in ${url}`],
        [["rewrite", A(), "--out", `${url}/team-a/${missing}`], 2, "invalid tenant URL"],
        [["compact", A(), `${url}/team-x/${missing}`, "--out", `${url}/team-d`], 1, `unknown tenant "team-x"`],
        [["downsample", `${url}/team-a/${missing}`, "--resolution", "5m", "--out", `${url}/x`], 1, "no meta.json at"],
        [["plan", url, "--tenant", "team-x"], 1, `unknown tenant "team-x"`],
        [["plan", A()], 2, "plan takes a bucket URL, not a block's"],
        [["inspect", `${url}/broken/${corrupt}`], 1, `broken/${corrupt}/index @0`],
      ];
      const results = await Promise.all(cases.map(([args]) => strata(...args)));
      cases.forEach(([args, code, text], n) => {
        const r = results[n]!;
        const label = args.join(" ");
        expect(r.code, label).toBe(code);
        expect(r.stderr.trim().split("\n"), label).toHaveLength(1);
        expect(r.stderr, label).toMatch(new RegExp(`^strata ${args[0]}: .*${reEscape(text)}`));
      });
      // Nothing was written for the refused compaction.
      const none = await strata("verify", `${url}/team-d/${missing}`);
      expect(none.stderr).toContain('unknown tenant "team-d"');
      // A failing block is reported by verify with its file, and exits 1.
      const v = await strata("verify", `${url}/broken/${corrupt}`);
      expect(v.code).toBe(1);
      expect(v.stdout).toContain(`${url}/broken/${corrupt} index@0: BadMagic`);
    });

    more?.(strata);
  });
}

function reEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
