/**
 * The API's routes: a request path to a status and a body parsed through its schema. Bad input
 * is answered, never thrown: a malformed path segment or tenant name or block id is 400, an
 * unknown tenant, block or path 404, each with one line in `{error}`.
 *
 *   GET /api/status                          bucket, refresh period, queues, per-tenant summaries
 *   GET /api/tenants                         per-tenant summaries
 *   GET /api/tenants/:tenant/blocks          every block folder with its marks, and the index
 *   GET /api/tenants/:tenant/plans           the pending plans (as `strata status` computes them)
 *   GET /api/tenants/:tenant/blocks/:ulid    one block: meta.json, marks, verify report, files
 */
import { quoteName, tenantFromName, tenantProblem } from "@strata/bucket";
import { isUlid } from "@strata/tsdb";
import type { z } from "zod";
import {
  BlockDetailResponse,
  BlocksResponse,
  ErrorResponse,
  PlansResponse,
  StatusResponse,
  TenantsResponse,
} from "./api.ts";
import type { WebData } from "./data.ts";

export interface ApiAnswer {
  status: number;
  body: unknown;
}

const fail = (status: number, error: string): ApiAnswer => ({ status, body: ErrorResponse.parse({ error }) });
const ok = <S extends z.ZodType>(schema: S, body: z.input<S>): ApiAnswer => ({ status: 200, body: schema.parse(body) });

/** `rest`: the path below `/api/`, still percent-encoded. */
export async function routeApi(data: WebData, rest: string): Promise<ApiAnswer> {
  const segments: string[] = [];
  for (const raw of rest.split("/")) {
    if (raw === "") continue;
    try {
      segments.push(decodeURIComponent(raw));
    } catch {
      return fail(400, `malformed path segment ${quoteName(raw.slice(0, 200))}: not valid percent-encoding`);
    }
  }
  const [head, name, what, id, ...extra] = segments;
  if (head === "status" && segments.length === 1) return ok(StatusResponse, await data.status());
  if (head !== "tenants" || extra.length > 0) return fail(404, `no such API path /api/${rest.slice(0, 200)}`);
  if (name === undefined) return ok(TenantsResponse, { tenants: await data.summaries() });

  const tenant = tenantFromName(name);
  const problem = tenant === "" ? undefined : tenantProblem(tenant);
  if (problem) return fail(400, `invalid tenant ${quoteName(name.slice(0, 200))}: ${problem}`);
  if (!(await data.tenants()).includes(tenant))
    return fail(404, `unknown tenant ${quoteName(name)}: no blocks in ${data.views.store.url}`);

  if (what === "blocks" && id === undefined) return ok(BlocksResponse, await data.blocks(tenant));
  if (what === "plans" && id === undefined) return ok(PlansResponse, await data.plans(tenant));
  if (what === "blocks" && id !== undefined) {
    if (!isUlid(id)) return fail(400, `invalid block id ${quoteName(id.slice(0, 200))}: expected a ULID`);
    const d = await data.block(tenant, id.toUpperCase());
    if (!d) return fail(404, `unknown block ${id.toUpperCase()} in tenant ${quoteName(name)}`);
    return ok(BlockDetailResponse, d);
  }
  return fail(404, `no such API path /api/${rest.slice(0, 200)}`);
}
