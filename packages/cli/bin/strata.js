#!/usr/bin/env node
console.log(process.version);
const m = await import("@strata/tsdb");
console.log(m.hello);
