#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript run by Node's type stripping (Node >= 24, pinned by
// the repository's `node` dev dependency, which npm scripts and npx put first on PATH).
const [major] = process.versions.node.split(".").map(Number);
if (major < 24) {
  process.stderr.write(
    `strata: needs Node >= 24 (found ${process.version}); run it through npx or npm scripts in the repository\n`,
  );
  process.exit(2);
}
const { main } = await import("../src/main.ts");
process.exitCode = await main(process.argv.slice(2));
