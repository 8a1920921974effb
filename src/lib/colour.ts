/**
 * Whether to paint output written to `stream`: only on a terminal, never under NO_COLOR (https://no-color.org: any
 * non-empty value) or TERM=dumb; FORCE_COLOR (non-empty, not 0/false) paints even into a pipe.
 */
export function colourEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return !/^(0|false)$/i.test(env.FORCE_COLOR)
  return stream.isTTY === true && env.TERM !== 'dumb'
}
