// The CLI starts fast: `strata --help` reads the command table and nothing else, and a
// command's `--help` loads that command's module only. The timings run the launcher as a user
// does (bundle or sources, whichever it picks); the budget is loose enough for a loaded CI
// machine (the target is ≤ 100 ms, bench/startup.bench.ts prints it), and what is loaded is
// checked exactly on the sources, where a stray static import would show.
import { describe, expect, it } from "vitest";
import { runProcess } from "@strata/testkit/process";
import { STRATA_BIN, startup } from "../bench/startup.bench.ts";

const BUDGET_MS = 250;

/** The module URLs `strata <args…>` loads when it runs from its TypeScript sources. */
async function loadedUrls(args: string[]): Promise<string[]> {
  // A module hook in the child reports every module it loads (one line each, on stderr).
  const hook = `import { registerHooks } from "node:module";
registerHooks({ load(url, context, next) { process.stderr.write("LOADED " + url + "\\n"); return next(url, context); } });`;
  const r = await runProcess(
    process.execPath,
    ["--import", `data:text/javascript,${encodeURIComponent(hook)}`, STRATA_BIN, ...args],
    { env: { ...process.env, STRATA_CLI_BUNDLE: "" } },
  );
  expect(r.code).toBe(0);
  return [...r.stderr.matchAll(/^LOADED (\S+)$/gm)].map((m) => m[1]!);
}

/** The repository's own files among `urls`, relative to packages/. */
function repoFiles(urls: string[]): string[] {
  return urls
    .filter((u) => u.includes("/packages/") && !u.includes("/node_modules/"))
    .map((u) => u.slice(u.lastIndexOf("/packages/") + "/packages/".length));
}

describe("strata start-up", () => {
  it(`strata --help: median of 7 runs under ${BUDGET_MS} ms`, async () => {
    const s = await startup(["--help"], 7);
    expect(s.median, `runs: ${s.runs.map((t) => t.toFixed(0)).join(", ")} ms`).toBeLessThan(BUDGET_MS);
  });

  it(`strata verify --help: median of 5 runs under ${2 * BUDGET_MS} ms`, async () => {
    const s = await startup(["verify", "--help"], 5);
    expect(s.median, `runs: ${s.runs.map((t) => t.toFixed(0)).join(", ")} ms`).toBeLessThan(2 * BUDGET_MS);
  });

  it("strata --help loads the launcher, the table and the help renderer, nothing else", async () => {
    const urls = await loadedUrls(["--help"]);
    expect(urls.filter((u) => u.includes("/node_modules/"))).toEqual([]);
    expect(repoFiles(urls).sort()).toEqual([
      "cli/bin/fresh.js",
      "cli/bin/strata.js",
      "cli/src/command.ts",
      "cli/src/main.ts",
    ]);
  });

  it("strata verify --help loads verify's module and no other command's", async () => {
    const urls = await loadedUrls(["verify", "--help"]);
    const files = repoFiles(urls);
    expect(files.filter((f) => f.startsWith("cli/src/commands/"))).toEqual(["cli/src/commands/verify.ts"]);
    // Nor the pipeline, the local runtime or the AWS SDK.
    expect(files.filter((f) => /^(pipeline|lambda|local|emulator)\//.test(f))).toEqual([]);
    expect(urls.filter((u) => u.includes("/@aws-sdk/"))).toEqual([]);
  });
});
