/**
 * A streamed answer (GET /v1/agent/monitor): the headers go out at once, then `start` writes the
 * body as it comes and returns the cleanup that runs when the client goes away.
 */
export class StreamReply {
  constructor(
    readonly contentType: string,
    readonly start: (res: import('node:http').ServerResponse) => () => void,
  ) {}
}

/** A handler's answer when it is not plain JSON with status 200: a status, raw bytes, or extra headers. */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: Buffer | string | undefined,
    readonly contentType = 'application/json',
    readonly headers: Record<string, string> = {},
  ) {}

  /** A status with an empty body (KV's 404 for a missing key). */
  static empty(status: number): Reply {
    return new Reply(status, undefined)
  }

  /** Stored bytes exactly as written, never sniffed by a browser (CVE-2020-25864). */
  static raw(body: Buffer): Reply {
    return new Reply(200, body, 'text/plain', {
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': 'sandbox',
    })
  }
}
