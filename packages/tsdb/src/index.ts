export const hello: string = "tsdb";
