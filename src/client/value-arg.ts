import { readFile } from 'node:fs/promises'

/** Consul's value argument: `@file` reads a file, `-` reads stdin, anything else is the value. */
export async function readValueArg(arg: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<Buffer> {
  if (arg === '-') {
    const chunks: Buffer[] = []
    for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
    return Buffer.concat(chunks)
  }
  if (arg.startsWith('@')) return readFile(arg.slice(1))
  return Buffer.from(arg, 'utf8')
}
