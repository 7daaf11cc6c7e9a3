export * from "./group.ts";
export * from "./outdated.ts";
