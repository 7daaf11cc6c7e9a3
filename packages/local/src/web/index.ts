// @strata/local/web: the bucket's page (`strata web`, and the local runtime's HTTP port): a
// node:http server of static files and a JSON API whose response shapes are zod schemas.
export {
  startWebServer,
  DEFAULT_WEB_PORT,
  DEFAULT_WEB_HOST,
  DEFAULT_REFRESH_SECONDS,
  type WebServer,
  type WebServerOptions,
} from "./server.ts";
export * from "./api.ts";
export { MetricsRegistry, exposition, escapeLabel, EXPOSITION_CONTENT_TYPE } from "./prometheus.ts";
