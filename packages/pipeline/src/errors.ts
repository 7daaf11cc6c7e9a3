/**
 * The base of every error @strata/pipeline defines (a bad queue body, bad settings, a job out
 * of time, an output that failed verification, a verification without a verdict), so that
 * `instanceof PipelineError` tells the pipeline's own refusals from the engines' and the
 * store's. Subclasses set a stable `name`; `options.cause` keeps the error they were made from.
 */
export class PipelineError extends Error {
  override name = "PipelineError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}
