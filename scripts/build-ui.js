// Builds the web UI (src/ui/app) into dist/ui: one hashed script and stylesheet, index.html naming
// them, and the gzip and brotli forms the agent sends. Type-checked first with the UI's own
// tsconfig (DOM types, Preact's JSX), as strict as the rest.
import { build } from 'esbuild'
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, gzipSync, constants } from 'node:zlib'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const src = join(root, 'src/ui/app')
const out = join(root, 'dist/ui')

execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', src], { stdio: 'inherit' })
rmSync(out, { recursive: true, force: true })
mkdirSync(join(out, 'assets'), { recursive: true })
const result = await build({
  entryPoints: { app: join(src, 'main.tsx'), style: join(src, 'style.css') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: '[name]-[hash]',
  outdir: join(out, 'assets'),
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
})
const files = Object.keys(result.metafile.outputs).map((p) => p.slice(p.lastIndexOf('assets/')))
const script = files.find((f) => f.endsWith('.js'))
const style = files.find((f) => f.endsWith('.css'))
const tags = `<link rel="stylesheet" href="${style}">\n<script type="module" src="${script}"></script>`
writeFileSync(join(out, 'index.html'), readFileSync(join(src, 'index.html'), 'utf8').replace('<!--consul-ui-assets-->', tags))
for (const name of readdirSync(join(out, 'assets'))) {
  const path = join(out, 'assets', name)
  const body = readFileSync(path)
  writeFileSync(`${path}.gz`, gzipSync(body, { level: 9 }))
  writeFileSync(`${path}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }))
}
