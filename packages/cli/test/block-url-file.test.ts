// The block commands on block URLs of a `file://` bucket (a directory read as a bucket: FsStore);
// `strata plan` reads the same bucket as a directory and as a URL alike.
import { pathToFileURL } from "node:url";
import { expect, it } from "vitest";
import { FsStore } from "@strata/bucket";
import { TempDirs } from "@strata/testkit/tmp";
import { blockUrlSuite } from "./block-url-suite.ts";

let root = "";

blockUrlSuite(
  "block commands on a file:// bucket",
  async () => {
    const tmp = new TempDirs();
    root = await tmp.make("file-bucket");
    return { url: pathToFileURL(root).href, store: new FsStore(root), env: {}, close: () => tmp.cleanup() };
  },
  (strata) => {
    it("plan --tenant reads a directory bucket as it reads its URL", async () => {
      const [dir, url, none] = await Promise.all([
        strata("plan", root, "--tenant", "team-a", "--json"),
        strata("plan", pathToFileURL(root).href, "--tenant", "team-a", "--json"),
        strata("plan", root, "--tenant", "team-x"),
      ]);
      expect(dir.code).toBe(0);
      expect(JSON.parse(dir.stdout).groups).toEqual(JSON.parse(url.stdout).groups);
      expect(JSON.parse(dir.stdout).groups).toHaveLength(1);
      expect(none.code).toBe(1);
      expect(none.stderr).toBe(`strata plan: unknown tenant "team-x" in ${root} (no block folders under it)\n`);
    });
  },
);
