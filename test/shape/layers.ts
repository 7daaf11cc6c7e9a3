/**
 * The layering check: every import in the repository against the documented order
 *
 *   tsdb, emulator → verify | compact | downsample | parquet | bucket → pipeline → lambda → local → cli
 *
 * (infra/ and functions/ deploy on top, test/ tests on top), run by `npm run check:layers` and
 * by test/shape/layers.test.ts inside `npm test`. It fails on
 *   - an import of a package above (an upward arrow); production code may not import a package
 *     of its own layer either (sideways), while tests and benches may, to check parts against
 *     each other (a compaction's output through the verifier),
 *   - a deep import: `@strata/x/sub` that x's package.json `exports` does not list,
 *   - a relative import that leaves its package (or its top-level folder; tests may reach
 *     infra/ and functions/, which are not packages, and sst.config.ts reaches infra/),
 *   - test support (`@strata/testkit`, `@strata/bench`) imported by production code,
 *   - an import cycle between files (type-only imports count: a cycle is a design knot either way).
 * Imports are read with the TypeScript parser, so comments and strings never count.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";

/** Production layers; a package may import only packages of a lower layer. */
export const LAYERS: Readonly<Record<string, number>> = {
  tsdb: 0,
  emulator: 0,
  verify: 1,
  compact: 1,
  downsample: 1,
  parquet: 1,
  bucket: 1,
  pipeline: 2,
  lambda: 3,
  local: 4,
  cli: 5,
};

/** Support packages: importable only from tests, benches and fuzzers. */
export const SUPPORT: Readonly<Record<string, readonly string[]>> = {
  // Builds blocks and runs the CLI and promtool for tests; it sits above none of the layers'
  // production code, so it may use any of them.
  testkit: Object.keys(LAYERS),
  bench: [],
};

/** Top-level folders and the packages their files may import. */
const TOP: Readonly<Record<string, { layer: number; support: boolean }>> = {
  functions: { layer: 6, support: false },
  infra: { layer: 6, support: false },
  test: { layer: 7, support: true },
};

export interface SourceFile {
  /** Path relative to the repository root, with forward slashes. */
  path: string;
  text: string;
}

export interface PackageInfo {
  /** Folder name under packages/, e.g. "bucket". */
  dir: string;
  /** Subpaths its package.json `exports` lists: ".", "./s3", … */
  exports: readonly string[];
  /** Each subpath's file, relative to the package folder ("./src/index.ts"). */
  targets?: Readonly<Record<string, string>>;
}

export interface Violation {
  file: string;
  line: number;
  rule: "upward" | "sideways" | "deep" | "relative-escape" | "support" | "cycle" | "unknown-package";
  message: string;
}

export interface ImportRef {
  spec: string;
  line: number;
  /** "value": loaded when the importing module loads; "dynamic": `import()`; "type": erased. */
  kind: "value" | "dynamic" | "type";
}

/** Where a file sits: its package (or top-level folder) and whether it is test or bench code. */
interface Place {
  unit: string;
  isPackage: boolean;
  support: boolean;
}

function placeOf(path: string): Place | undefined {
  const parts = path.split("/");
  if (parts[0] === "packages" && parts.length > 2) {
    // packages/<dir>/{src,test,bench,fuzz,…}/…: anything but src/ and bin/ is test or bench support.
    return { unit: parts[1]!, isPackage: true, support: !["src", "bin"].includes(parts[2]!) };
  }
  const top = parts[0]!;
  if (top in TOP) return { unit: top, isPackage: false, support: TOP[top]!.support };
  if (parts.length === 1) return { unit: "", isPackage: false, support: true }; // root configs
  return undefined;
}

function layerOf(unit: string, isPackage: boolean): number | undefined {
  if (isPackage) return LAYERS[unit];
  return TOP[unit]?.layer ?? 8;
}

export function importsOf(file: SourceFile): ImportRef[] {
  const sf = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: ImportRef[] = [];
  const add = (node: ts.Node, spec: ts.Expression | undefined, kind: ImportRef["kind"]) => {
    if (spec && ts.isStringLiteralLike(spec)) {
      out.push({ spec: spec.text, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, kind });
    }
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) add(node, node.moduleSpecifier, node.importClause?.isTypeOnly ? "type" : "value");
    else if (ts.isExportDeclaration(node)) add(node, node.moduleSpecifier, node.isTypeOnly ? "type" : "value");
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword)
      add(node, node.arguments[0], "dynamic");
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node, node.argument.literal, "type");
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Check every file's imports; `exists` answers whether a repository path is a file. */
export function checkLayers(
  files: readonly SourceFile[],
  packages: readonly PackageInfo[],
  exists: (path: string) => boolean,
): Violation[] {
  const pkgs = new Map(packages.map((p) => [p.dir, p]));
  const violations: Violation[] = [];
  const edges = new Map<string, { to: string; line: number }[]>();

  for (const file of files) {
    const from = placeOf(file.path);
    if (!from) continue;
    const fromLayer = layerOf(from.unit, from.isPackage);
    const own: { to: string; line: number }[] = [];
    edges.set(file.path, own);
    for (const { spec, line } of importsOf(file)) {
      const v = (rule: Violation["rule"], message: string) => violations.push({ file: file.path, line, rule, message });
      if (spec.startsWith(".")) {
        const target = relative(".", join(dirname(file.path), spec))
          .split(sep)
          .join("/");
        const to = placeOf(target);
        const reachesDeploy =
          to !== undefined &&
          !to.isPackage &&
          (to.unit === "infra" || to.unit === "functions") &&
          (from.unit === "test" || from.unit === "");
        if (target.startsWith("..") || !to || (to.unit !== from.unit && !reachesDeploy)) {
          v(
            "relative-escape",
            `${spec} leaves ${from.isPackage ? `packages/${from.unit}` : from.unit || "the root"}: import the package by name`,
          );
          continue;
        }
        if (from.isPackage && !from.support && to.support)
          v("support", `${spec}: production code imports test or bench code`);
        if (exists(target)) own.push({ to: target, line });
        continue;
      }
      const m = /^@strata\/([^/]+)(\/.*)?$/.exec(spec);
      if (!m) continue; // a third-party module or node: builtin
      const dir = m[1]!;
      const sub = m[2] ? `.${m[2]}` : ".";
      const pkg = pkgs.get(dir);
      if (!pkg) {
        v("unknown-package", `${spec}: no package packages/${dir}`);
        continue;
      }
      if (!pkg.exports.includes(sub))
        v("deep", `${spec}: @strata/${dir} does not export "${sub}" (its entry points: ${pkg.exports.join(", ")})`);
      if (from.isPackage && dir === from.unit) continue; // a package's tests import it by name
      if (dir in SUPPORT) {
        if (!from.support) v("support", `${spec}: test support imported by production code`);
        else if (from.isPackage && from.unit in SUPPORT && !SUPPORT[from.unit]!.includes(dir))
          v("sideways", `${spec}: support packages do not import each other`);
        continue;
      }
      if (from.isPackage && from.unit in SUPPORT) {
        if (!SUPPORT[from.unit]!.includes(dir))
          v("sideways", `${spec}: @strata/${from.unit} may not import @strata/${dir}`);
        continue;
      }
      const toLayer = LAYERS[dir]!;
      if (fromLayer === undefined) continue;
      if (toLayer > fromLayer)
        v(
          "upward",
          `${spec}: ${from.unit} (layer ${fromLayer}) imports ${dir} (layer ${toLayer}), which sits above it`,
        );
      else if (toLayer === fromLayer && !from.support)
        v("sideways", `${spec}: ${from.unit} and ${dir} share layer ${fromLayer}; neither may import the other`);
    }
  }
  for (const cycle of cycles(edges)) {
    const first = cycle[0]!;
    const line = edges.get(first)!.find((e) => e.to === cycle[1 % cycle.length])?.line ?? 1;
    violations.push({ file: first, line, rule: "cycle", message: `import cycle: ${[...cycle, first].join(" → ")}` });
  }
  return violations;
}

/** Strongly connected components of more than one file (or a file importing itself), each as one cycle path. */
function cycles(edges: Map<string, { to: string; line: number }[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  // Iterative Tarjan: the repository is small, but recursion depth should not depend on it.
  for (const root of edges.keys()) {
    if (index.has(root)) continue;
    const work: { node: string; next: number }[] = [{ node: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const succ = edges.get(top.node) ?? [];
      if (top.next < succ.length) {
        const to = succ[top.next++]!.to;
        if (!edges.has(to)) continue;
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, next: 0 });
        } else if (onStack.has(to)) low.set(top.node, Math.min(low.get(top.node)!, index.get(to)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]!.node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) === index.get(top.node)) {
        const comp: string[] = [];
        let n: string;
        do {
          n = stack.pop()!;
          onStack.delete(n);
          comp.push(n);
        } while (n !== top.node);
        const selfLoop = succ.some((e) => e.to === top.node);
        if (comp.length > 1 || selfLoop) out.push(cyclePath(comp, edges));
      }
    }
  }
  return out;
}

/** One concrete cycle through a strongly connected component, for the message. */
function cyclePath(comp: string[], edges: Map<string, { to: string; line: number }[]>): string[] {
  const inComp = new Set(comp);
  const start = [...comp].sort()[0]!;
  // Breadth-first from start back to start, inside the component.
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const n = queue.shift()!;
    for (const { to } of edges.get(n) ?? []) {
      if (!inComp.has(to)) continue;
      if (to === start) {
        const path = [n];
        while (path[0] !== start) path.unshift(prev.get(path[0]!)!);
        return path;
      }
      if (!prev.has(to)) {
        prev.set(to, n);
        queue.push(to);
      }
    }
  }
  return [start];
}

const SKIP = new Set(["node_modules", ".sst", ".git", "dist", "coverage"]);

function walk(root: string, dir: string, out: SourceFile[]): void {
  for (const name of readdirSync(join(root, dir))) {
    if (SKIP.has(name)) continue;
    const rel = dir ? `${dir}/${name}` : name;
    const st = statSync(join(root, rel));
    if (st.isDirectory()) walk(root, rel, out);
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith(".d.ts"))
      out.push({ path: rel, text: readFileSync(join(root, rel), "utf8") });
  }
}

/** The repository's files and packages, read from disk. */
export function loadRepository(root: string): { files: SourceFile[]; packages: PackageInfo[] } {
  const files: SourceFile[] = [];
  for (const top of ["packages", "functions", "infra", "test"]) walk(root, top, files);
  for (const name of ["sst.config.ts", "vitest.config.ts"]) {
    try {
      files.push({ path: name, text: readFileSync(join(root, name), "utf8") });
    } catch {
      // optional
    }
  }
  const packages = readdirSync(join(root, "packages")).flatMap((dir) => {
    try {
      const pj = JSON.parse(readFileSync(join(root, "packages", dir, "package.json"), "utf8")) as {
        exports?: Record<string, unknown> | string;
      };
      const targets: Record<string, string> =
        typeof pj.exports === "string"
          ? { ".": pj.exports }
          : Object.fromEntries(
              Object.entries(pj.exports ?? {}).filter((e): e is [string, string] => typeof e[1] === "string"),
            );
      return [{ dir, exports: Object.keys(targets), targets }];
    } catch {
      return [];
    }
  });
  return { files, packages };
}

export function checkRepository(root: string): Violation[] {
  const { files, packages } = loadRepository(root);
  return checkLayers(files, packages, (p) => {
    try {
      return statSync(join(root, p)).isFile();
    } catch {
      return false;
    }
  });
}

export function formatViolation(v: Violation): string {
  return `${v.file}:${v.line}: ${v.rule}: ${v.message}`;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const root = resolve(import.meta.dirname, "../..");
  const found = checkRepository(root);
  for (const v of found) console.log(formatViolation(v));
  console.log(
    found.length === 0
      ? "layers: no upward, sideways or deep import, no cycle"
      : `layers: ${found.length} violation(s)`,
  );
  process.exitCode = found.length === 0 ? 0 : 1;
}
