export * from "./model.ts";
export * as costConstants from "./constants.ts";
