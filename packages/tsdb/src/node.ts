// Node-only entry point (`@strata/tsdb/node`): filesystem adapters for the byte ports.
export { FileSource, FileSink, DirBlockSource, DirBlockSink } from "./node/fs.ts";
