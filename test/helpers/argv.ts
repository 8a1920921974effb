/** `--name value` from the command line of a test-side CLI (npm run fuzz, reliability, soak). */
export function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] : undefined
}
