// `strata upload`, `strata ls`, `strata mark` and `strata unmark` as an operator runs them, in
// a child process, against a directory bucket (file://) and S3 over the wire (the emulator:
// fauxqs behind the conditional-write proxy; the child gets its AWS_* environment): the whole
// round trip (upload with verification, index rebuild, listing, marks in both places and in
// the bucket index, the last-copy refusal) and bad input, each answered on one line.
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStore, type ObjectStore } from "@strata/bucket";
import { S3Store } from "@strata/bucket/s3";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, startS3Emulator, type S3Emulator } from "@strata/emulator";
import { REPO_ROOT, STRATA_BIN } from "@strata/testkit/cli";
import { runProcess } from "@strata/testkit/process";
import { TempDirs } from "@strata/testkit/tmp";
import { HOUR, T0, makeFixture, type Fixture } from "./bucket-tools-fixture.ts";

const tmp = new TempDirs();
let fx: Fixture;
let emu: S3Emulator;

interface Backend {
  url: string;
  env: Record<string, string>;
  store: ObjectStore;
}
const backends: Record<string, Backend> = {};

beforeAll(async () => {
  fx = await makeFixture(await tmp.make("bucket-tools"));
  const dir = await tmp.make("bucket-tools-fs");
  backends.file = { url: pathToFileURL(dir).href, env: {}, store: new FsStore(dir) };
  emu = await startS3Emulator({ buckets: ["strata-tools"] });
  backends.s3 = {
    url: "s3://strata-tools",
    env: emu.env(),
    store: new S3Store({
      bucket: "strata-tools",
      clientConfig: { endpoint: emu.endpoint, credentials: EMULATOR_CREDENTIALS, region: EMULATOR_REGION },
    }),
  };
});

afterAll(async () => {
  await (backends.s3?.store as S3Store | undefined)?.close();
  await emu?.stop();
  await tmp.cleanup();
});

describe.each(["file", "s3"])("the bucket tools on %s", (name) => {
  const be = () => backends[name]!;
  const strata = (...args: string[]) =>
    runProcess(process.execPath, [STRATA_BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...be().env } });
  const ls = async (...args: string[]) => {
    const r = await strata("ls", be().url, "--tenant", "team-a", "--json", ...args);
    expect(r.stderr).toBe("");
    return JSON.parse(r.stdout) as Record<string, unknown>[];
  };

  it("uploads the verified blocks (meta.json last), refuses the corrupt one, skips what is there", async () => {
    const r = await strata("upload", fx.dir, be().url, "--tenant", "team-a");
    expect(r.code).toBe(1);
    for (const b of [fx.a, fx.b, fx.c])
      expect(r.stdout).toMatch(new RegExp(`^team-a/${b}: uploaded \\(.* KiB in (<1s|\\d)`, "m"));
    expect(r.stdout).toMatch(/\[3\/4 blocks, .*\/s, /); // off a terminal: the figures on each block's line
    expect(r.stderr).toMatch(
      new RegExp(
        `^strata upload: team-a/${fx.bad}: fails verification, not uploaded: chunks/000001@\\d+: \\w+ \\[reject\\]`,
        "m",
      ),
    );
    expect(r.stdout).toMatch(/^3 uploaded, 0 already there, 1 not uploaded/m);
    expect(await be().store.head(`team-a/${fx.bad}/meta.json`)).toBeUndefined();

    const again = await strata("upload", fx.dir, be().url, "--tenant", "team-a", "--block", fx.a);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`team-a/${fx.a}: already in the bucket with the same meta.json`);
    const unchecked = await strata("upload", fx.dir, be().url, "--tenant", "team-a", "--block", fx.bad, "--no-verify");
    expect(unchecked.code).toBe(0);
    // The index rebuild verifies in place what no verify admitted: the corrupt block is quarantined.
    const rebuilt = await strata("index", "rebuild", be().url, "--tenant", "team-a");
    expect(rebuilt.stdout).toContain(`quarantined ${fx.bad}`);
  });

  it("lists every block with range, level, stats, size, index membership and the quarantine's reason", async () => {
    const table = await strata("ls", be().url, "--tenant", "team-a");
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TENANT\s+ULID\s+START\s+END\s+DURATION\s+LEVEL\s+RES\s+SHARD\s+SERIES/);
    expect(lines).toHaveLength(5);
    const a = lines.find((l) => l.includes(fx.a))!;
    expect(a).toMatch(
      /^team-a\s+\S+\s+2026-01-01T00:00:00Z\s+2026-01-01T01:59:45\.001Z\s+1h59m45\.001s\s+1\s+raw\s+-\s+3\s+1440\s+/,
    );
    expect(a).toMatch(/\syes\s+-\s+\{cluster="eu1"\}$/);
    // Columns line up: every row's ULID starts where the header's does.
    expect(new Set(lines.map((l) => l.indexOf(l.split(/\s+/)[1]!))).size).toBe(1);
    expect(lines.find((l) => l.includes(fx.bad))).toMatch(/\sno\s+quarantine\s.*quarantined: chunks\/000001@\d+/);

    const rows = await ls();
    const ra = rows.find((r) => r.ulid === fx.a)!;
    expect(ra).toMatchObject({
      tenant: "team-a",
      minTime: T0,
      start: "2026-01-01T00:00:00Z",
      level: 1,
      resolution: "raw",
      labels: { cluster: "eu1" },
      series: 3,
      samples: 1440,
      indexed: true,
      verified: true,
      marks: {},
    });
    expect(ra.sizeBytes as number).toBeGreaterThan(1000);
    expect((await ls("--level", "2")).map((r) => r.ulid)).toEqual([fx.c]);
    expect((await ls("--marked", "quarantine")).map((r) => r.ulid)).toEqual([fx.bad]);
    expect((await ls("--since", new Date(T0 + 3 * HOUR).toISOString(), "--sort", "ulid")).map((r) => r.ulid)).toEqual(
      [fx.b, fx.c, fx.bad].sort(),
    );
    expect((await ls("--sort", "size"))[0]!.ulid).toBe(fx.c);
  });

  it("refuses to mark the last copy for deletion, marks a covered block in both places and the index", async () => {
    const last = await strata("mark", "deletion", be().url, "--tenant", "team-a", "--block", fx.c);
    expect(last.code).toBe(1);
    expect(last.stderr).toBe(
      `strata mark: team-a/${fx.c}: last copy of 2026-01-01T00:00:00Z..2026-01-01T03:59:45.001Z (raw, {cluster="eu1"}): no other live, verified, indexed block holds its data; --force marks it anyway\n`,
    );
    const dry = await strata("mark", "deletion", be().url, "--tenant", "team-a", "--block", fx.a, "--dry-run");
    expect(dry.stdout).toMatch(
      /would write deletion-mark\.json .* to team-a\/.*\/deletion-mark\.json and team-a\/markers\//,
    );
    expect((await ls("--marked", "deletion")).length).toBe(0);

    const m = await strata(
      "mark",
      "deletion",
      be().url,
      "--tenant",
      "team-a",
      "--block",
      fx.a,
      "--details",
      "replaced",
    );
    expect(m.code).toBe(0);
    expect(m.stdout).toMatch(
      new RegExp(
        `^team-a/${fx.a}: wrote deletion-mark\\.json \\(details "replaced", deletion time .*\\); bucket index updated\\n$`,
      ),
    );
    expect(await be().store.head(`team-a/markers/${fx.a}-deletion-mark.json`)).toBeDefined();
    const idx = JSON.parse((await strata("index", "show", be().url, "--tenant", "team-a", "--json")).stdout);
    expect(idx.block_deletion_marks.map((x: { block_id: string }) => x.block_id)).toEqual([fx.a]);
    const marked = (await ls("--marked", "deletion"))[0]!;
    expect(marked).toMatchObject({ ulid: fx.a, marks: { deletion: { details: "replaced" } } });

    const again = await strata("mark", "deletion", be().url, "--tenant", "team-a", "--block", fx.a);
    expect([again.code, again.stdout]).toEqual([0, expect.stringContaining("already has deletion-mark.json")]);
    const differs = await strata("mark", "deletion", be().url, "--tenant", "team-a", "--block", fx.a, "--details", "x");
    expect(differs.code).toBe(1);
    expect(differs.stderr).toMatch(
      /already has deletion-mark\.json .*which differs \(details "replaced", asked "x"\); --force replaces it/,
    );

    const un = await strata("unmark", "deletion", be().url, "--tenant", "team-a", "--block", fx.a);
    expect(un.code).toBe(0);
    expect(un.stdout).toMatch(/removed team-a\/.*deletion-mark\.json and team-a\/markers\/.*; bucket index updated/);
    const un2 = await strata("unmark", "deletion", be().url, "--tenant", "team-a", "--block", fx.a);
    expect([un2.code, un2.stdout]).toEqual([0, `team-a/${fx.a}: has no deletion-mark.json; nothing to remove\n`]);
    const forced = await strata("mark", "deletion", be().url, "--tenant", "team-a", "--block", fx.c, "--force");
    expect(forced.code).toBe(0);
    expect((await strata("unmark", "deletion", be().url, "--tenant", "team-a", "--block", fx.c)).code).toBe(0);

    const nc = await strata(
      "mark",
      "no-compact",
      be().url,
      "--tenant",
      "team-a",
      "--block",
      fx.b,
      "--reason",
      "manual",
    );
    expect(nc.stdout).toContain('wrote no-compact-mark.json (reason "manual")');
    expect((await ls("--marked", "no-compact")).map((r) => r.ulid).sort()).toEqual([fx.b, fx.bad].sort());
    expect((await strata("unmark", "no-compact", be().url, "--tenant", "team-a", "--block", fx.b)).code).toBe(0);
    const q = await strata("unmark", "no-compact", be().url, "--tenant", "team-a", "--block", fx.bad);
    expect(q.code).toBe(1);
    expect(q.stderr).toMatch(/is quarantined .*`strata quarantine release`/);
  });

  it("answers bad input on one line: missing block, unknown tenant, malformed URL, broken meta.json", async () => {
    const missing = "01JGZZZZZZZZZZZZZZZZZZZZZZ";
    const r = await strata("mark", "no-compact", be().url, "--tenant", "team-a", "--block", missing);
    expect([r.code, r.stderr]).toEqual([
      1,
      expect.stringMatching(
        /^strata mark: team-a\/01JGZZZZZZZZZZZZZZZZZZZZZZ: no such block in tenant "team-a" \(nothing under .*\)\n$/,
      ),
    ]);
    const nobody = await strata("ls", be().url, "--tenant", "nobody");
    expect([nobody.code, nobody.stderr]).toEqual([
      1,
      expect.stringMatching(/^strata ls: tenant "nobody": no blocks in \S+\n$/),
    ]);
    const invalid = await strata("mark", "deletion", be().url, "--tenant", "markers", "--block", fx.a);
    expect([invalid.code, invalid.stderr]).toEqual([
      2,
      expect.stringMatching(/^strata mark: --tenant: invalid tenant "markers": .*\n$/),
    ]);
    const badUrl = await strata("ls", "ftp://x");
    expect([badUrl.code, badUrl.stderr]).toEqual([
      2,
      expect.stringMatching(/^strata ls: invalid bucket URL "ftp:\/\/x"/),
    ]);
    const badUlid = await strata("unmark", "deletion", be().url, "--tenant", "team-a", "--block", "nope");
    expect([badUlid.code, badUlid.stderr]).toEqual([2, 'strata unmark: --block: expected a block ULID, got "nope"\n']);
    const noDir = await strata("upload", "/nonexistent/dir", be().url, "--tenant", "team-a");
    expect([noDir.code, noDir.stderr]).toEqual([2, "strata upload: /nonexistent/dir: not a directory\n"]);
    const badKind = await strata("mark", "later", be().url);
    expect(badKind.code).toBe(2);

    // A bucket that is not there: one line and exit 1 from every command, never a stack or an empty listing.
    const gone = name === "s3" ? "s3://no-such-bucket-strata" : "file:///nonexistent-strata-bucket";
    for (const args of [
      ["ls", gone],
      ["status", gone],
      ["mark", "no-compact", gone, "--tenant", "team-a", "--block", missing],
      ["unmark", "deletion", gone, "--tenant", "team-a", "--block", missing],
    ]) {
      const r = await strata(...args);
      expect([r.code, r.stderr.split("\n").length, r.stderr], args.join(" ")).toEqual([
        1,
        2,
        expect.stringMatching(name === "s3" ? /NoSuchBucket/ : /no such directory/),
      ]);
    }

    await be().store.put(`team-a/${missing}/meta.json`, "{");
    const broken = await strata("ls", be().url, "--tenant", "team-a");
    expect(broken.code).toBe(0);
    expect(broken.stdout.split("\n").find((l) => l.includes(missing))).toMatch(/not valid JSON/);
    await be().store.delete(`team-a/${missing}/meta.json`);
  });
});
