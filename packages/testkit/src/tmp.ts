// Temporary directories for the interop tests. Every directory made here is
// remembered so a suite can remove all of them in afterAll, even when a test
// failed half way.
import { cp, link, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Prefix of every directory we create, so stray leftovers are recognisable. */
export const TMP_PREFIX = "strata-interop-";

/** A set of temp directories that are removed together by `cleanup()`. */
export class TempDirs {
  readonly #dirs: string[] = [];

  /** Creates a fresh, empty directory under the OS temp dir. */
  async make(label = "tmp"): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), `${TMP_PREFIX}${label}-`));
    this.#dirs.push(dir);
    return dir;
  }

  /** Removes every directory made so far; safe to call more than once. */
  async cleanup(): Promise<void> {
    const dirs = this.#dirs.splice(0);
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

/** Copies a directory tree (blocks are small; a real copy keeps servers from touching the source). */
export async function copyDir(src: string, dst: string): Promise<void> {
  await cp(src, dst, { recursive: true, errorOnExist: true, force: false });
}

/**
 * Recreates `src` under `dst` with real directories and hard-linked files.
 * Prometheus skips symlinked block directories silently (a dump of such a db
 * prints nothing and exits 0), so links must be at the file level. Falls back
 * to copying when hard links are not possible (different file systems).
 */
export async function hardLinkTree(src: string, dst: string): Promise<void> {
  await mkdir(dst, { recursive: true });
  for (const e of await readdir(src, { withFileTypes: true })) {
    const from = join(src, e.name);
    const to = join(dst, e.name);
    if (e.isDirectory()) {
      await hardLinkTree(from, to);
    } else {
      try {
        await link(from, to);
      } catch {
        await cp(from, to);
      }
    }
  }
}
