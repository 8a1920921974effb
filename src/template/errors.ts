/**
 * Typed errors. Messages are exactly Go's text/template messages, so that a
 * caller (consul-template) can log them as Go would.
 */

/** Base class of every error this module throws on purpose. */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** A template failed to parse: `template: NAME:LINE: MSG`. */
export class ParseError extends TemplateError {
  override name = 'ParseError';
}

/**
 * A template failed while executing:
 * `template: NAME:LINE:COL: executing "NAME" at <NODE>: MSG`.
 * `templateName` is the template being executed; `cause` is the error a
 * template function threw, if that is what stopped execution.
 */
export class ExecError extends TemplateError {
  override name = 'ExecError';
  /** Output written before the error (Go writes it to the writer). */
  partialOutput = '';
  constructor(
    message: string,
    readonly templateName: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
