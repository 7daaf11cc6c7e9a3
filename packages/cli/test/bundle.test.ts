// The launcher runs the bundle bin/bundle.js builds only while it is fresh (built after every
// source file it holds changed), the TypeScript sources otherwise; and the bundle behaves as
// the sources do: the same output, the same one-line errors and exit codes, worker threads
// started from its chunks, the local runtime's emulator loaded from node_modules.
// STRATA_CLI_BUNDLE points the launcher at a bundle of this test's own (beside bin/bundle, so
// its external packages resolve as there; git-ignored by its own .gitignore), so nothing here
// touches the repository's bin/bundle.
import { execFileSync, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBenchBlock } from "@strata/testkit";
import { REPO_ROOT, STRATA_BIN } from "@strata/testkit/cli";
import { runProcess } from "@strata/testkit/process";

const CLI = join(REPO_ROOT, "packages", "cli");

/** `strata <args…>` through the launcher, with the bundle in `bundle` ("" = the sources). */
const strata = (bundle: string, ...args: string[]) =>
  runProcess(process.execPath, [STRATA_BIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, STRATA_CLI_BUNDLE: bundle },
  });

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "strata-bundle-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("which code the launcher runs", () => {
  /** A stand-in bundle that says it ran, over one real source file. */
  async function fakeBundle(name: string, manifest: { builtAt: number; inputs?: string[] }): Promise<string> {
    const dir = join(tmp, name);
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, "main.mjs"),
      'export async function main() { process.stdout.write("from the bundle\\n"); return 0; }\n',
    );
    const inputs = manifest.inputs ?? [relative(dir, join(CLI, "src", "main.ts"))];
    await writeFile(
      join(dir, "manifest.json"),
      JSON.stringify({ entry: "main.mjs", builtAt: manifest.builtAt, inputs }),
    );
    return dir;
  }

  it("a bundle built after its sources' last change", async () => {
    const r = await strata(await fakeBundle("fresh", { builtAt: Date.now() + 3_600_000 }), "--help");
    expect(r.stdout).toBe("from the bundle\n");
  });

  it("the sources when a source changed after the build, one is gone, or there is no bundle", async () => {
    const stale = await fakeBundle("stale", { builtAt: 0 });
    const gone = await fakeBundle("gone", { builtAt: Date.now() + 3_600_000, inputs: ["../no-such-file.ts"] });
    for (const dir of [stale, gone, join(tmp, "none"), ""]) {
      const r = await strata(dir, "--help");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^strata: /);
    }
  });
});

describe("the bundle", () => {
  let bundle: string;
  let block: string;
  beforeAll(async () => {
    bundle = join(CLI, "bin", `bundle.test-${process.pid}`);
    execFileSync(process.execPath, [join(CLI, "bin", "bundle.js"), bundle], { stdio: "pipe" });
    block = await makeBenchBlock(await mkdtemp(join(tmp, "blocks-")), 20, 480);
  }, 120_000);
  afterAll(async () => {
    await rm(bundle, { recursive: true, force: true });
  });

  it("is fresh as built, and lists the repository's files it holds", async () => {
    const m = JSON.parse(await readFile(join(bundle, "manifest.json"), "utf8")) as { inputs: string[] };
    expect(m.inputs).toContain(relative(bundle, join(CLI, "src", "main.ts")));
    expect(m.inputs.some((f) => f.includes("node_modules"))).toBe(false);
    expect((await strata(bundle, "--help")).stdout).toBe((await strata("", "--help")).stdout);
  });

  it("prints what the sources print: help, a dump, an inspection", async () => {
    for (const args of [
      ["verify", "--help"],
      ["dump", block],
      ["inspect", "--json", block],
    ]) {
      const [b, s] = [await strata(bundle, ...args), await strata("", ...args)];
      expect({ code: b.code, stdout: b.stdout, stderr: b.stderr }).toEqual({
        code: s.code,
        stdout: s.stdout,
        stderr: s.stderr,
      });
    }
  });

  it("reports bad input as the sources do: one line, exit 1", async () => {
    const broken = join(tmp, "broken");
    execFileSync("cp", ["-r", block, broken]);
    await truncate(join(broken, "index"), 100);
    const [b, s] = [await strata(bundle, "dump", broken), await strata("", "dump", broken)];
    expect(b.code).toBe(1);
    expect(b.stderr.trim().split("\n")).toHaveLength(1);
    expect(b.stderr).toBe(s.stderr);
  });

  it("starts downsampling worker threads from its own chunks", async () => {
    const out = join(tmp, "downsampled");
    await mkdir(out);
    const r = await strata(bundle, "downsample", block, "--resolution", "5m", "--workers", "1", "--out", out);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const dir = r.stdout.trim();
    const inspected = await strata(bundle, "inspect", "--json", dir);
    expect(inspected.code).toBe(0);
    expect((JSON.parse(inspected.stdout) as { meta: { thanos?: { downsample?: unknown } } }).meta.thanos).toMatchObject(
      {
        downsample: { resolution: 300_000 },
      },
    );
  });

  it("runs the local pipeline (the emulator from node_modules) and stops on SIGINT with exit 0", async () => {
    const child = spawn(process.execPath, [STRATA_BIN, "local", "--ephemeral", "--port", "0", "--workers", "1"], {
      cwd: REPO_ROOT,
      env: { ...process.env, STRATA_CLI_BUNDLE: bundle },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on("data", (b: Buffer) => {
        stderr += b.toString("utf8");
        if (stderr.includes("Ctrl-C stops")) resolve();
      });
      child.on("exit", () => reject(new Error(`strata local exited early:\n${stderr}`)));
    });
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(stderr).toContain("strata local: stopping");
  }, 60_000);
});
