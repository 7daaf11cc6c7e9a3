/**
 * What loading an entry point loads: the files reached from it by value imports (static
 * `import`/`export … from`, not `import type` and not `import()`), and the third-party modules
 * they name. test/shape/entry-points.test.ts holds the light entry points to their promise
 * (`@strata/bucket` without the AWS SDK, `@strata/lambda/deploy` without Powertools, …).
 */
import { dirname, join, normalize } from "node:path";
import { importsOf, type PackageInfo, type SourceFile } from "./layers.ts";

export interface Closure {
  files: Set<string>;
  /** Third-party module specifiers (and node: builtins) loaded, with a file that loads each. */
  external: Map<string, string>;
}

export function loadClosure(entry: string, files: readonly SourceFile[], packages: readonly PackageInfo[]): Closure {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const pkgs = new Map(packages.map((p) => [p.dir, p]));
  const out: Closure = { files: new Set(), external: new Map() };
  const todo = [entry];
  while (todo.length > 0) {
    const path = todo.pop()!;
    if (out.files.has(path)) continue;
    const file = byPath.get(path);
    if (!file) throw new Error(`${path}: not a source file of the repository`);
    out.files.add(path);
    for (const ref of importsOf(file)) {
      if (ref.kind !== "value") continue;
      const target = resolveSpec(path, ref.spec, pkgs);
      if (target === undefined) {
        if (!out.external.has(ref.spec)) out.external.set(ref.spec, path);
      } else todo.push(target);
    }
  }
  return out;
}

/** A repository path for a relative or `@strata/…` specifier; undefined for third-party ones. */
export function resolveSpec(from: string, spec: string, pkgs: Map<string, PackageInfo>): string | undefined {
  if (spec.startsWith("."))
    return normalize(join(dirname(from), spec))
      .split("\\")
      .join("/");
  const m = /^@strata\/([^/]+)(\/.*)?$/.exec(spec);
  if (!m) return undefined;
  const pkg = pkgs.get(m[1]!);
  const target = pkg?.targets?.[m[2] ? `.${m[2]}` : "."];
  if (!pkg || !target) throw new Error(`${from}: ${spec} is not an entry point`);
  return normalize(join("packages", pkg.dir, target))
    .split("\\")
    .join("/");
}
