// The block commands on block URLs of a `file://` bucket (a directory read as a bucket: FsStore).
import { pathToFileURL } from "node:url";
import { FsStore } from "@strata/bucket";
import { TempDirs } from "@strata/testkit/tmp";
import { blockUrlSuite } from "./block-url-suite.ts";

blockUrlSuite("block commands on a file:// bucket", async () => {
  const tmp = new TempDirs();
  const root = await tmp.make("file-bucket");
  return { url: pathToFileURL(root).href, store: new FsStore(root), env: {}, close: () => tmp.cleanup() };
});
