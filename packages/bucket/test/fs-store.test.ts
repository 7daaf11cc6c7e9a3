import { mkdtemp, rm, readdir, writeFile, mkdir, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FsStore, FS_RESERVED_DIR, PreconditionFailedError } from "../src/index.ts";
import { storeContract } from "./contract.ts";

storeContract("filesystem", async () => {
  const root = await mkdtemp(join(tmpdir(), "strata-fs-store-"));
  return {
    store: new FsStore(root),
    another: () => new FsStore(root),
    partSize: 1 << 20,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe("FsStore specifics", () => {
  it("keeps its temp files and locks out of listings and leaves no empty directories after deletes", async () => {
    const root = await mkdtemp(join(tmpdir(), "strata-fs-store-"));
    try {
      const s = new FsStore(root);
      await s.put("t/01HFAY3VMA1D6NYKSJAA6WSXP3/chunks/000001", "c");
      expect((await s.list("", { delimiter: "/" })).prefixes).toEqual(["t/"]);
      await s.delete("t/01HFAY3VMA1D6NYKSJAA6WSXP3/chunks/000001");
      expect((await readdir(root)).filter((n) => n !== FS_RESERVED_DIR)).toEqual([]);
      expect(await readdir(join(root, FS_RESERVED_DIR, "tmp"))).toEqual([]);
      expect(await readdir(join(root, FS_RESERVED_DIR, "locks"))).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("rejects keys that would escape the bucket", async () => {
    const s = new FsStore("/nonexistent");
    await expect(s.get("../etc/passwd")).rejects.toThrow(/invalid object key/);
    await expect(s.put(`${FS_RESERVED_DIR}/x`, "x")).rejects.toThrow(/invalid object key/);
  });

  it("breaks a lock abandoned by a crashed process", async () => {
    const root = await mkdtemp(join(tmpdir(), "strata-fs-store-"));
    try {
      const s = new FsStore(root, { staleLockMs: 1000 });
      const e = (await s.put("k", "v")) as string;
      // Simulate a crash while holding the lock of "k".
      const { createHash } = await import("node:crypto");
      const lock = join(root, FS_RESERVED_DIR, "locks", createHash("sha1").update("k").digest("hex"));
      await mkdir(join(root, FS_RESERVED_DIR, "locks"), { recursive: true });
      await writeFile(lock, "");
      const old = new Date(Date.now() - 5000);
      await utimes(lock, old, old);
      const r = await s.put("k", "w", { ifMatch: e });
      expect(r).not.toBeInstanceOf(PreconditionFailedError);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
