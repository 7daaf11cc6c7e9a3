// `strata web`: the bucket on a page (every tenant's blocks on a timeline, marks, quarantine,
// pending plans, the bucket index's age) with its JSON under /api/. The server is
// @strata/local/web's, the one the local runtime serves on its HTTP port; this file parses
// flags, opens the bucket and waits for Ctrl-C.
import { ROOT_TENANT, quoteName, tenantFromName, tenantProblem } from "@strata/bucket";
import { openBucketArg } from "../bucket-args.ts";
import type { Command } from "../command.ts";
import { UsageError, stopSignal } from "../command.ts";

export const webCommand: Command = {
  summary: "serve a page of the bucket: blocks on a timeline per tenant, marks, quarantine, pending plans, index age",
  usage: "web <bucket-url> [--port 10902] [--listen 127.0.0.1] [--tenant T] [--refresh 30s] [--replica-label L]...",
  options: {
    port: { type: "string" },
    listen: { type: "string" },
    tenant: { type: "string" },
    refresh: { type: "string" },
    "replica-label": { type: "string", multiple: true },
  },
  optionHelp: {
    port: "HTTP port (default 10902, where Thanos components serve HTTP; 0 = any free port)",
    listen: "address to bind (default 127.0.0.1: this machine only; 0.0.0.0 shows the bucket to the network)",
    tenant: "only this tenant (__root__: blocks at the bucket root); default every tenant",
    refresh: "how often the page reloads its data (a duration, default 30s)",
    "replica-label":
      "an external label that tells HA replicas apart (repeat for several; default STRATA_REPLICA_LABELS, comma-separated): their blocks share a row, and the plans are the pipeline's",
  },
  details: async () =>
    [
      "The page: one timeline per tenant, a row per compaction group (external labels without replica labels) and",
      "resolution, a bar per block coloured by level; deletion marks hatched, quarantined blocks outlined in red, no-compact",
      "dashed, blocks whose meta.json is missing or broken listed apart. Hover for a summary; click for meta.json, the marks",
      "and the verify report. Read-only: nothing is written to the bucket.",
      "JSON: /api/status, /api/tenants, /api/tenants/<tenant>/blocks, /api/tenants/<tenant>/plans,",
      "/api/tenants/<tenant>/blocks/<ULID>. Prometheus text format at /metrics (per-tenant gauges: blocks, pending plans,",
      "upload lag, quarantined blocks, no-compact marks, bucket index age and size).",
      "",
      "Examples:",
      "  strata web s3://strata-blocks                    # then open http://127.0.0.1:10902/",
      "  strata web file:///data/bucket --port 8080 --tenant team-a --refresh 10s --replica-label replica",
      "  AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test strata web s3://strata-blocks --port 10903",
    ].join("\n"),
  async run([url, ...extra], values) {
    if (!url) throw new UsageError("a bucket URL is required (file:///path or s3://bucket[/prefix])");
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    const port = portOption(values.port);
    const host = values.listen === undefined ? undefined : String(values.listen);
    if (host === "") throw new UsageError("--listen: expected an address, got an empty string");
    const refreshSeconds = await refreshOption(values.refresh);
    let tenant: string | undefined;
    if (values.tenant !== undefined) {
      tenant = tenantFromName(String(values.tenant));
      const problem = tenant === ROOT_TENANT ? undefined : tenantProblem(tenant);
      if (problem) throw new UsageError(`--tenant: invalid tenant ${quoteName(tenant)}: ${problem}`);
    }
    const store = await openBucketArg(url);
    try {
      const { startWebServer, DEFAULT_WEB_PORT } = await import("@strata/local/web");
      let server;
      try {
        server = await startWebServer({
          store,
          port: port ?? DEFAULT_WEB_PORT,
          host,
          refreshSeconds,
          tenant,
          engine: { replicaLabels: replicaLabels(values["replica-label"]) },
        });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EADDRINUSE" || code === "EADDRNOTAVAIL" || code === "EACCES" || code === "ENOTFOUND") {
          process.stderr.write(
            `strata web: cannot listen on ${host ?? "127.0.0.1"}:${port ?? DEFAULT_WEB_PORT}: ${code}; pick another with --port or --listen\n`,
          );
          return 1;
        }
        throw e;
      }
      if (tenant !== undefined && !(await server.tenants()).includes(tenant)) {
        await server.close();
        process.stderr.write(
          `strata web: unknown tenant ${quoteName(String(values.tenant))}: no blocks in ${store.url}\n`,
        );
        return 1;
      }
      const stopRequested = stopSignal(); // before saying Ctrl-C stops
      process.stderr.write(
        `strata web: ${store.url} at ${server.url}/ (JSON under ${server.url}/api/); Ctrl-C stops\n`,
      );
      await stopRequested;
      await server.close();
      return 0;
    } finally {
      await store.close?.();
    }
  },
};

function portOption(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d{1,5}$/.test(String(v)) || n > 65535)
    throw new UsageError(`--port: expected a port number (0-65535), got ${JSON.stringify(v)}`);
  return n;
}

async function refreshOption(v: unknown): Promise<number | undefined> {
  if (v === undefined) return undefined;
  const { tryParseDuration } = await import("@strata/tsdb");
  const ms = tryParseDuration(String(v));
  if (ms === undefined || ms < 1000 || ms > 86_400_000)
    throw new UsageError(`--refresh: expected a duration from 1s to 24h (10s, 1m), got ${JSON.stringify(v)}`);
  return Math.round(ms / 1000);
}

/** The replica labels the pipeline groups by: the flags, else STRATA_REPLICA_LABELS as the functions read it. */
function replicaLabels(v: unknown): string[] {
  const labels = (v as string[] | undefined) ?? (process.env.STRATA_REPLICA_LABELS ?? "").split(",");
  return labels.map((l) => l.trim()).filter((l) => l !== "");
}
