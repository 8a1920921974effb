/**
 * consul-template's function map: the data functions (which read the brain and record used and
 * missing dependencies, never block) and the helpers, with upstream's argument order (the piped
 * value is the last parameter) and error texts.
 */
import { createHash, createHmac } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { chmodSync, chownSync, closeSync, fsyncSync, lstatSync, mkdirSync, openSync, realpathSync, writeSync, constants as fsc } from 'node:fs'
import { dirname, basename, join, relative, resolve, sep } from 'node:path'
import YAML from 'yaml'
import { float64, GoFloat, GoSizedInt, sprintf, typed, typeName, type Template } from '../template/index.js'
import { signature } from '../template/funcs.js'
import { kindOf, Kind, isPlainObject } from '../template/value.js'
import {
  CatalogDatacentersQuery,
  CatalogNode,
  CatalogNodeQuery,
  CatalogNodesQuery,
  CatalogServicesQuery,
  CatalogSnippet,
  FileQuery,
  HealthService,
  HealthServiceQuery,
  KeyPair,
  KVGetQuery,
  KVListQuery,
  type Dependency,
} from './deps.js'
import { goJson, goParseJson, goReplaceAll, goTimeFormat, goToml, parseGoBool, parseGoFloat, parseGoInt, parseGoUint } from './gofmt.js'
import { compileRe2 } from '../lib/re2.js'

/** `plugin` kills a plugin that runs longer than this (upstream: 30 s). */
export const PLUGIN_TIMEOUT_MS = 30_000
/** Largest stdout a plugin may print. */
export const PLUGIN_MAX_OUTPUT_BYTES = 16 * 1024 * 1024

/** The cache of fetched data, keyed by dependency id (upstream's Brain). */
export type Brain = Map<string, unknown>

/** What one execution records. */
export interface Recorder {
  used: Map<string, Dependency>
  missing: Map<string, Dependency>
}

export interface FuncMapInput {
  brain: Brain
  rec: Recorder
  /** The template being executed (for executeTemplate). */
  tmpl: () => Template
  /** Extra environment that wins over process.env (upstream's Env input). */
  env: Record<string, string>
  sandboxPath: string
  denylist: readonly string[]
  /** Overridable clock for timestamp (tests). */
  now?: () => Date
}

const asString = (fn: string, v: unknown): string => {
  if (typeof v === 'string') return v
  throw new Error(`${fn}: wrong type for value; expected string; got ${typeName(v)}`)
}

// ---- data functions ------------------------------------------------------------------------------

function recall<T>(i: FuncMapInput, d: Dependency): { ok: true; value: T } | { ok: false } {
  i.rec.used.set(d.id, d)
  if (i.brain.has(d.id)) return { ok: true, value: i.brain.get(d.id) as T }
  i.rec.missing.set(d.id, d)
  return { ok: false }
}

function dataFuncs(i: FuncMapInput): Record<string, (...a: any[]) => unknown> {
  /**
   * `ls`/`tree` and their safe forms: a KV list query whose pairs pass `keep`. The safe forms
   * refuse to render on an empty result: the prefix then counts as missing.
   */
  const kvList = (keep: (key: string) => boolean, emptyIsSafe: boolean) =>
    signature((s: string): KeyPair[] => {
      const result = typed([] as KeyPair[], '[]*dependency.KeyPair', null)
      if (s === '') return result
      const d = new KVListQuery(s)
      const r = recall<KeyPair[]>(i, d)
      if (r.ok) {
        for (const p of r.value) if (p.Key !== '' && keep(p.Key)) result.push(p)
        if (result.length > 0 || emptyIsSafe) return result
      }
      i.rec.missing.set(d.id, d)
      return result
    }, ['string'])
  // ls: only the top level under the prefix. tree: everything but folders (keys ending in /).
  const ls = (emptyIsSafe: boolean) => kvList((key) => !key.includes('/'), emptyIsSafe)
  const tree = (emptyIsSafe: boolean) => kvList((key) => !key.endsWith('/'), emptyIsSafe)
  const sandboxed = (p: string): string => {
    if (!i.sandboxPath) return resolve(p)
    let sb: string
    let target: string
    try {
      sb = realpathSync(i.sandboxPath)
    } catch (err) {
      throw new Error(`failed to resolve sandbox path: ${(err as Error).message}`)
    }
    try {
      target = realpathSync(p)
    } catch (err) {
      throw new Error(`failed to resolve target path: ${(err as Error).message}`)
    }
    const rel = relative(sb, target)
    if (rel === '..' || rel.startsWith('..' + sep)) throw new Error(`'${p}' is outside of sandbox`)
    return target
  }
  return {
    service: signature((...s: string[]): HealthService[] => {
      const result = typed([] as HealthService[], '[]*dependency.HealthService', null)
      if (s.length === 0 || s[0] === '') return result
      const r = recall<HealthService[]>(i, new HealthServiceQuery(s.join('|')))
      return r.ok ? r.value : result
    }, ['string'], { variadic: true }),
    connect: signature((...s: string[]): HealthService[] => {
      const result = typed([] as HealthService[], '[]*dependency.HealthService', null)
      if (s.length === 0 || s[0] === '') return result
      const r = recall<HealthService[]>(i, new HealthServiceQuery(s.join('|'), true))
      return r.ok ? r.value : result
    }, ['string'], { variadic: true }),
    services: signature((...s: string[]): CatalogSnippet[] => {
      const r = recall<CatalogSnippet[]>(i, new CatalogServicesQuery(s.join('')))
      return r.ok ? r.value : typed([], '[]*dependency.CatalogSnippet', null)
    }, ['string'], { variadic: true }),
    key: signature((s: string): string => {
      if (s === '') return ''
      const r = recall<string | null>(i, new KVGetQuery(s, true))
      return r.ok ? (r.value ?? '') : ''
    }, ['string']),
    keyExists: signature((s: string): boolean => {
      if (s === '') return false
      const r = recall<string | null>(i, new KVGetQuery(s))
      return r.ok ? r.value !== null : false
    }, ['string']),
    keyOrDefault: signature((s: string, def: string): string => {
      if (s === '') return def
      const r = recall<string | null>(i, new KVGetQuery(s))
      if (!r.ok) return def
      return r.value === null || r.value === '' ? def : r.value
    }, ['string', 'string']),
    ls: ls(true),
    safeLs: ls(false),
    tree: tree(true),
    safeTree: tree(false),
    node: signature((...s: string[]): CatalogNode | null => {
      const r = recall<CatalogNode>(i, new CatalogNodeQuery(s.join('')))
      return r.ok ? r.value : null
    }, ['string'], { variadic: true }),
    nodes: signature((...s: string[]) => {
      const r = recall<unknown[]>(i, new CatalogNodesQuery(s.join('')))
      return r.ok ? r.value : typed([], '[]*dependency.Node', null)
    }, ['string'], { variadic: true }),
    datacenters: signature((...b: boolean[]): string[] => {
      const r = recall<string[]>(i, new CatalogDatacentersQuery(b.length > 0 && b[0]))
      return r.ok ? r.value : typed([], '[]string', '')
    }, ['bool'], { variadic: true }),
    file: signature((s: string): string => {
      if (s === '') return ''
      const path = sandboxed(s.trim())
      const r = recall<string>(i, new FileQuery(path))
      return r.ok ? r.value : ''
    }, ['string']),
  }
}

// ---- scratch -------------------------------------------------------------------------------------

/** Per-execution scratch space (`scratch.Set "k" v`). */
export class Scratch {
  static goType = '*template.Scratch'
  readonly #values = new Map<string, unknown>()
  Key(k: string): boolean {
    return this.#values.has(k)
  }
  Get(k: string): unknown {
    return this.#values.has(k) ? this.#values.get(k) : null
  }
  Set(k: string, v: unknown): string {
    this.#values.set(k, v)
    return ''
  }
  SetX(k: string, v: unknown): string {
    if (!this.#values.has(k)) this.#values.set(k, v)
    return ''
  }
  MapSet(k: string, mk: string, v: unknown): string {
    return this.#mapSet(k, mk, v, true)
  }
  MapSetX(k: string, mk: string, v: unknown): string {
    return this.#mapSet(k, mk, v, false)
  }
  #mapSet(k: string, mk: string, v: unknown, override: boolean): string {
    if (!this.#values.has(k)) this.#values.set(k, {})
    const m = this.#values.get(k)
    if (m === null || typeof m !== 'object' || !isPlainObject(m)) throw new Error(`${JSON.stringify(k)} is not a map`)
    if (override || !(mk in m)) (m as Record<string, unknown>)[mk] = v
    return ''
  }
  MapValues(k: string): unknown[] | null {
    const m = this.#values.get(k)
    if (m === null || typeof m !== 'object' || !isPlainObject(m)) return null
    return Object.keys(m)
      .sort()
      .map((key) => (m as Record<string, unknown>)[key])
  }
}
signature(Scratch.prototype.Key, ['string'])
signature(Scratch.prototype.Get, ['string'])
signature(Scratch.prototype.Set, ['string', 'any'])
signature(Scratch.prototype.SetX, ['string', 'any'])
signature(Scratch.prototype.MapSet, ['string', 'string', 'any'])
signature(Scratch.prototype.MapSetX, ['string', 'string', 'any'])
signature(Scratch.prototype.MapValues, ['string'])

// ---- math ----------------------------------------------------------------------------------------

type Num = { k: 'int'; v: bigint } | { k: 'uint'; v: bigint } | { k: 'float'; v: number }

function num(x: unknown): Num | undefined {
  switch (kindOf(x)) {
    case Kind.Int:
      return { k: 'int', v: BigInt(x as number | bigint) }
    case Kind.Uint:
      return { k: 'uint', v: x as bigint }
    case Kind.Float:
      return { k: 'float', v: Number(x) }
  }
  return undefined
}

const fromInt = (v: bigint): number | bigint => {
  const w = BigInt.asIntN(64, v)
  return Number.isSafeInteger(Number(w)) ? Number(w) : w
}
const fromUint = (v: bigint): number | bigint => {
  const w = BigInt.asUintN(64, v)
  return w > (1n << 63n) - 1n ? w : Number.isSafeInteger(Number(w)) ? Number(w) : w
}
const fromNum = (n: Num): unknown => (n.k === 'float' ? float64(n.v) : n.k === 'int' ? fromInt(n.v) : fromUint(n.v))
const fnum = (n: Num): number => (n.k === 'float' ? n.v : Number(n.k === 'uint' ? n.v : BigInt.asIntN(64, n.v)))

function unknownType(fn: string, v: unknown): Error {
  return new Error(`${fn}: unknown type for ${sprintf('%q', v)} (${v === undefined || v === null ? '<nil>' : typeName(v)})`)
}

/** upstream's add/subtract/multiply/divide: `fn b a` computes a OP b; ints stay int64, uint with uint stays uint64, else float64. */
function arith(fn: string, op: (a: bigint, b: bigint) => bigint, fop: (a: number, b: number) => number, allowFloat = true) {
  return (b: unknown, a: unknown): unknown => {
    const av = num(a)
    if (!av || (!allowFloat && av.k === 'float')) throw unknownType(fn, a)
    const bv = num(b)
    if (!bv || (!allowFloat && bv.k === 'float')) throw unknownType(fn, b)
    if (av.k === 'float' || bv.k === 'float') return float64(fop(fnum(av), fnum(bv)))
    if ((av.k === 'int' || bv.k === 'int') && (fn === 'divide' || fn === 'modulo') && bv.v === 0n) throw new Error('runtime error: integer divide by zero')
    if (av.k === 'uint' && bv.k === 'uint') {
      if ((fn === 'divide' || fn === 'modulo') && bv.v === 0n) throw new Error('runtime error: integer divide by zero')
      return fromUint(op(av.v, bv.v))
    }
    return fromInt(op(BigInt.asIntN(64, av.v), BigInt.asIntN(64, bv.v)))
  }
}

function pick(fn: string, isMin: boolean) {
  return (b: unknown, a: unknown): unknown => {
    const av = num(a)
    if (!av) throw unknownType(fn, a)
    const bv = num(b)
    if (!bv) throw unknownType(fn, b)
    let cmp: number
    if (av.k === 'uint' && bv.k === 'uint') cmp = av.v < bv.v ? -1 : av.v > bv.v ? 1 : 0
    else if (av.k !== 'float' && bv.k !== 'float') {
      const x = BigInt.asIntN(64, av.v)
      const y = BigInt.asIntN(64, bv.v)
      cmp = x < y ? -1 : x > y ? 1 : 0
    } else cmp = fnum(av) < fnum(bv) ? -1 : fnum(av) > fnum(bv) ? 1 : 0
    return fromNum((isMin ? cmp < 0 : cmp > 0) ? av : bv)
  }
}

// ---- collections ---------------------------------------------------------------------------------

/** upstream's `in`: slice element equality (int with int, float with float, string with string) or substring. */
export function goIn(l: unknown, v: unknown): boolean {
  const lk = kindOf(l)
  const vk = kindOf(v)
  if (lk === Kind.Slice) {
    for (const e of l as unknown[]) {
      const ek = kindOf(e)
      if (ek === Kind.Int && vk === Kind.Int && BigInt(e as number) === BigInt(v as number)) return true
      if (ek === Kind.Float && vk === Kind.Float && Number(e) === Number(v)) return true
      if (ek === Kind.String && vk === Kind.String && e === v) return true
    }
    return false
  }
  if (lk === Kind.String) return vk === Kind.String && (l as string).includes(v as string)
  return false
}

function containsSome(retTrue: boolean, invert: boolean) {
  return (v: unknown, l: unknown): boolean => {
    if (kindOf(v) !== Kind.Slice) throw new Error(`wrong type for value; expected []interface {}; got ${typeName(v)}`)
    for (const x of v as unknown[]) if (goIn(l, x) !== invert) return !retTrue
    return retTrue
  }
}

function explodeHelper(m: Record<string, unknown>, k: string, v: unknown, p: string): void {
  if (k.includes('/')) {
    const parts = k.split('/')
    const top = parts[0]
    const key = parts.slice(1).join('/')
    if (!(top in m)) m[top] = {}
    const nest = m[top]
    if (nest === null || typeof nest !== 'object' || !isPlainObject(nest)) {
      throw new Error(`not a map: ${JSON.stringify(p)}: ${JSON.stringify(top)} already has value ${sprintf('%q', nest)}`)
    }
    explodeHelper(nest as Record<string, unknown>, key, v, k)
    return
  }
  if (k !== '') m[k] = v
}

function mapEntries(m: unknown, fn: string): [string, unknown][] {
  if (m instanceof Map) return [...m.entries()].map(([k, v]) => [String(k), v])
  if (m !== null && typeof m === 'object' && isPlainObject(m)) return Object.entries(m)
  throw new Error(`${fn}: wrong type for value; expected map[string]interface {}; got ${typeName(m)}`)
}

/** mergo.Map: fills keys dst lacks (recursively into maps); with override, src wins. */
function mergeInto(dst: Record<string, unknown>, src: Record<string, unknown>, override: boolean): void {
  for (const [k, v] of Object.entries(src)) {
    const d = dst[k]
    const bothMaps = d !== null && typeof d === 'object' && isPlainObject(d) && v !== null && typeof v === 'object' && isPlainObject(v)
    if (bothMaps) mergeInto(d as Record<string, unknown>, v as Record<string, unknown>, override)
    else if (!(k in dst) || d === null || d === '' || d === 0 || d === false || override) dst[k] = v
  }
}

function byTag(list: unknown): Record<string, unknown[]> {
  const m: Record<string, unknown[]> = {}
  if (list === null || list === undefined) return m
  if (!Array.isArray(list)) throw new Error(`byTag: wrong argument type ${typeName(list)}`)
  for (const s of list) {
    if (!(s instanceof HealthService) && !(s instanceof CatalogSnippet)) throw new Error(`byTag: wrong argument type ${typeName(list)}`)
    for (const t of s.Tags) (m[t] ??= typed([], '[]interface {}', null)).push(s)
  }
  return typed(m, 'map[string][]interface {}', null)
}

function byMeta(meta: string, services: unknown): Record<string, HealthService[]> {
  const groups: Record<string, HealthService[]> = {}
  const normalize = (x: string): string => x.replace(/[^a-zA-Z0-9_-]/g, '_')
  const getOrDefault = (m: Record<string, string>, key: string): string => {
    const realKey = key.endsWith('|int') ? key.slice(0, -4) : key
    const v = m[realKey]
    if (v) return v
    return key.endsWith('|int') ? '0' : `_no_${realKey}_`
  }
  for (const s of (services ?? []) as HealthService[]) {
    const parts: string[] = []
    for (const m of meta.split(',')) {
      let value = getOrDefault(s.ServiceMeta, m)
      if (m.endsWith('|int')) {
        if (!/^[+-]?\d+$/.test(value)) throw new Error(`cannot parse ${value} as number : strconv.Atoi: parsing ${JSON.stringify(value)}: invalid syntax`)
        const n = parseInt(value, 10)
        value = n < 0 ? '-' + String(-n).padStart(4, '0') : String(n).padStart(5, '0')
      }
      parts.push(normalize(value))
    }
    ;(groups[parts.join('_')] ??= typed([], '[]*dependency.HealthService', null)).push(s)
  }
  return typed(groups, 'map[string][]*dependency.HealthService', null)
}

function byPort(services: unknown): Map<number, HealthService[]> {
  const m = new Map<number, HealthService[]>()
  for (const s of (services ?? []) as HealthService[]) {
    if (!m.has(s.Port)) m.set(s.Port, typed([], '[]*dependency.HealthService', null))
    m.get(s.Port)!.push(s)
  }
  return m
}

function indent(spaces: number, s: string): string {
  if (spaces < 0) throw new Error('indent value must be a positive integer')
  const prefix = ' '.repeat(spaces)
  let out = ''
  let sp = true
  for (const c of s) {
    if (sp && c !== '\n') out += prefix
    out += c
    sp = c === '\n'
  }
  return out
}

function loop(...args: unknown[]): number[] {
  const to64 = (x: unknown): number => {
    const k = kindOf(x)
    if (k === Kind.Int || k === Kind.Uint) return Number(x)
    if (k === Kind.String) return Number(parseGoInt(x as string))
    throw new Error(`loop: bad argument type: ${typeName(x)}`)
  }
  let i1: unknown
  let i2: unknown
  if (args.length === 1) [i1, i2] = [0, args[0]]
  else if (args.length === 2) [i1, i2] = args
  else throw new Error(`loop: wrong number of arguments, expected 1 or 2, but got ${args.length}`)
  const start = to64(i1)
  const stop = to64(i2)
  const out: number[] = []
  for (let n = start; n < stop; n++) out.push(n)
  return typed(out, 'chan int64', 0)
}

/** YAML values become Go values as yaml.v2 gives them: ints, float64s, map[interface{}]interface{} (here: plain maps). */
function fromYaml(x: unknown): unknown {
  if (typeof x === 'number') return Number.isInteger(x) && !Object.is(x, -0) ? x : float64(x)
  if (Array.isArray(x)) return x.map(fromYaml)
  if (x instanceof Map) {
    const o: Record<string, unknown> = {}
    for (const [k, v] of x) o[String(k)] = fromYaml(v)
    return o
  }
  if (x !== null && typeof x === 'object') {
    const o: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(x)) o[k] = fromYaml(v)
    return o
  }
  return x === undefined ? null : x
}

/** Template values to plain JS for the YAML encoder (maps sorted, structs in field order). */
function toPlain(x: unknown): unknown {
  if (x instanceof GoFloat) return x.value
  if (x instanceof GoSizedInt) return x.value
  if (typeof x === 'bigint') return x
  if (Array.isArray(x)) return x.map(toPlain)
  if (x instanceof Map) return toPlain(Object.fromEntries([...x.entries()].map(([k, v]) => [String(k), v])))
  if (x !== null && typeof x === 'object') {
    const entries = Object.entries(x)
    if (isPlainObject(x)) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    // yaml.v2 lowercases struct field names.
    return Object.fromEntries(entries.map(([k, v]) => [isPlainObject(x) ? k : k.toLowerCase(), toPlain(v)]))
  }
  return x
}

function toTitle(s: string): string {
  // cases.Title(language.Und, cases.NoLower): upper-case the first letter of each word, leave the rest.
  return s.replace(/(^|[^\p{L}\p{N}'’_])(\p{L})/gu, (_m, pre: string, c: string) => pre + c.toUpperCase())
}

function base64Decode(fn: string, s: string, url: boolean): string {
  const valid = url ? /^[A-Za-z0-9_-]*={0,2}$/ : /^[A-Za-z0-9+/]*={0,2}$/
  if (!valid.test(s) || s.length % 4 !== 0) {
    let pos = s.search(url ? /[^A-Za-z0-9_=-]/ : /[^A-Za-z0-9+/=]/)
    if (pos < 0) pos = s.length - (s.length % 4 === 0 ? 0 : s.length % 4)
    throw new Error(`${fn}: illegal base64 data at input byte ${pos}`)
  }
  return Buffer.from(s, url ? 'base64url' : 'base64').toString('utf8')
}

function plugin(name: string, ...args: string[]): string {
  if (name === '') return ''
  const argv = args.map((a) => a.trim()).filter((a) => a !== '')
  const r = spawnSync(name, argv, { timeout: PLUGIN_TIMEOUT_MS, maxBuffer: PLUGIN_MAX_OUTPUT_BYTES, encoding: 'utf8' })
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') throw new Error(`exec ${JSON.stringify(name)}: did not finish in 30s`)
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : r.signal ? `signal: ${r.signal}` : `exit status ${r.status}`
    throw new Error(`exec ${JSON.stringify(name)}: ${why}\n\nstdout:\n\n${r.stdout ?? ''}\n\nstderr:\n\n${r.stderr ?? ''}`)
  }
  return r.stdout.trim()
}

function writeToFile(path: string, username: string, groupName: string, permissions: string, ...args: string[]): string {
  if (args.length === 0) throw new Error('wrong number of args for writeToFile: want at least 5 got 4')
  const flags = args.length === 2 ? args[0] : ''
  const content = args[args.length - 1]
  if (!/^[0-7]+$/.test(permissions)) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(permissions)}: invalid syntax`)
  const perm = parseInt(permissions, 8)
  const dir = dirname(path)
  mkdirSync(dir, { recursive: true })
  if (lstatSync(dir).isSymbolicLink()) throw new Error(`writeToFile: refusing to write through symlinked directory in path ${JSON.stringify(path)}`)
  const target = join(dir, basename(path))
  try {
    if (lstatSync(target).isSymbolicLink()) throw new Error(`writeToFile: refusing to write to symlink ${JSON.stringify(path)}`)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const append = flags.includes('append')
  const fd = openSync(target, (append ? fsc.O_APPEND | fsc.O_WRONLY : fsc.O_RDWR | fsc.O_TRUNC) | fsc.O_CREAT | fsc.O_NOFOLLOW, perm)
  try {
    writeSync(fd, content + (flags.includes('newline') ? '\n' : ''))
    fsyncSync(fd)
    if (username !== '' || groupName !== '') {
      const uid = username === '' ? process.getuid!() : Number(username)
      const gid = groupName === '' ? process.getgid!() : Number(groupName)
      if (!Number.isInteger(uid)) throw new Error(`user: unknown user ${username}`)
      if (!Number.isInteger(gid)) throw new Error(`group: unknown group ${groupName}`)
      chownSync(target, uid, gid)
    }
    chmodSync(target, perm)
  } finally {
    closeSync(fd)
  }
  return ''
}

function globToRegExp(glob: string): RegExp {
  return new RegExp('^' + glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$')
}

/** The full function map for one execution. */
export function funcMap(i: FuncMapInput): Record<string, (...a: any[]) => unknown> {
  const now = i.now ?? (() => new Date())
  const lookupEnv = (k: string): string | undefined => (k in i.env ? i.env[k] : process.env[k])
  const S = ['string'] as const
  const m: Record<string, (...a: any[]) => unknown> = {
    ...dataFuncs(i),
    env: signature((k: string) => lookupEnv(k) ?? '', [...S]),
    mustEnv: signature((k: string) => {
      const v = lookupEnv(k) ?? ''
      if (v === '') throw new Error(`required environment variable ${k} is empty`)
      return v
    }, [...S]),
    envOrDefault: signature((k: string, def: string) => lookupEnv(k) ?? def, ['string', 'string']),
    executeTemplate: signature((name: string, ...data: unknown[]) => {
      if (data.length > 1) throw new Error(`executeTemplate: wrong number of arguments, expected 1 or 2, but got ${data.length + 1}`)
      return i.tmpl().executeTemplate(name, data.length ? data[0] : null)
    }, ['string', 'any'], { variadic: true }),
    base64Decode: signature((s: string) => base64Decode('base64Decode', s, false), [...S]),
    base64Encode: signature((s: string) => Buffer.from(s, 'utf8').toString('base64'), [...S]),
    base64URLDecode: signature((s: string) => base64Decode('base64URLDecode', s, true), [...S]),
    base64URLEncode: signature((s: string) => Buffer.from(s, 'utf8').toString('base64url').padEnd(Math.ceil(Buffer.byteLength(s) / 3) * 4, '='), [...S]),
    byKey: (pairs: unknown) => {
      const out: Record<string, Record<string, KeyPair>> = {}
      for (const p of (pairs ?? []) as KeyPair[]) {
        const parts = p.Key.split('/')
        const key = parts.slice(1).join('/')
        if (key === '') continue
        out[parts[0]] ??= typed({}, 'map[string]*dependency.KeyPair', null)
        out[parts[0]][key] = new KeyPair(p.Path, key, p.Value, p.CreateIndex, p.ModifyIndex, p.LockIndex, p.Flags, p.Session)
      }
      return typed(out, 'map[string]map[string]*dependency.KeyPair', null)
    },
    byTag,
    byPort,
    byMeta: signature(byMeta, ['string', 'any']),
    contains: (v: unknown, l: unknown) => goIn(l, v),
    containsAll: containsSome(true, true),
    containsAny: containsSome(false, false),
    containsNone: containsSome(true, false),
    containsNotAll: containsSome(false, true),
    explode: (pairs: unknown) => {
      const out: Record<string, unknown> = {}
      try {
        for (const p of (pairs ?? []) as KeyPair[]) explodeHelper(out, p.Key, p.Value, p.Key)
      } catch (err) {
        throw new Error(`explode: ${(err as Error).message}`)
      }
      return out
    },
    explodeMap: (mapIn: unknown) => {
      const out: Record<string, unknown> = {}
      const entries = mapEntries(mapIn, 'explodeMap').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      try {
        for (const [k, v] of entries) explodeHelper(out, k, v, k)
      } catch (err) {
        throw new Error(`explodeMap: ${(err as Error).message}`)
      }
      return out
    },
    mergeMap: (dst: unknown, src: unknown) => {
      mapEntries(dst, 'mergeMap')
      mergeInto(dst as Record<string, unknown>, Object.fromEntries(mapEntries(src, 'mergeMap')), false)
      return dst
    },
    mergeMapWithOverride: (dst: unknown, src: unknown) => {
      mapEntries(dst, 'mergeMapWithOverride')
      mergeInto(dst as Record<string, unknown>, Object.fromEntries(mapEntries(src, 'mergeMapWithOverride')), true)
      return dst
    },
    in: goIn,
    indent: signature(indent, ['int', 'string']),
    loop,
    join: signature((sepr: string, a: unknown) => {
      if (!Array.isArray(a)) throw new Error(`wrong type for value; expected []string; got ${typeName(a)}`)
      return a.map((x) => asString('join', x)).join(sepr)
    }, ['string', 'any']),
    split: signature((sepr: string, s: string) => {
      s = s.trim()
      return typed(s === '' ? [] : s.split(sepr), '[]string', '')
    }, ['string', 'string']),
    splitToMap: signature((sep1: string, sep2: string, s: string) => {
      const out = typed({} as Record<string, string>, 'map[string]string', '')
      s = s.trim()
      if (s === '') return out
      for (const part of s.split(sep1)) {
        const at = part.indexOf(sep2)
        if (at < 0) continue
        out[part.slice(0, at)] = part.slice(at + sep2.length)
      }
      return out
    }, ['string', 'string', 'string']),
    trim: signature((cutset: string, s: string) => {
      const set = new Set(cutset)
      const chars = [...s]
      let a = 0
      let b = chars.length
      while (a < b && set.has(chars[a])) a++
      while (b > a && set.has(chars[b - 1])) b--
      return chars.slice(a, b).join('')
    }, ['string', 'string']),
    trimPrefix: signature((p: string, s: string) => (p !== '' && s.startsWith(p) ? s.slice(p.length) : s), ['string', 'string']),
    trimSuffix: signature((p: string, s: string) => (p !== '' && s.endsWith(p) ? s.slice(0, -p.length) : s), ['string', 'string']),
    trimSpace: signature((s: string) => s.replace(/^[\s\u0085\u00a0]+|[\s\u0085\u00a0]+$/g, ''), [...S]),
    parseBool: signature((s: string) => {
      if (s === '') return false
      try {
        return parseGoBool(s)
      } catch (err) {
        throw new Error(`parseBool: ${(err as Error).message}`)
      }
    }, [...S]),
    parseFloat: signature((s: string) => {
      if (s === '') return float64(0)
      try {
        return float64(parseGoFloat(s))
      } catch (err) {
        throw new Error(`parseFloat: ${(err as Error).message}`)
      }
    }, [...S]),
    parseInt: signature((s: string) => {
      if (s === '') return 0
      try {
        return parseGoInt(s)
      } catch (err) {
        throw new Error(`parseInt: ${(err as Error).message}`)
      }
    }, [...S]),
    parseUint: signature((s: string) => {
      if (s === '') return 0
      try {
        return parseGoUint(s)
      } catch (err) {
        throw new Error(`parseUint: ${(err as Error).message}`)
      }
    }, [...S]),
    parseJSON: signature((s: string) => (s === '' ? {} : goParseJson(s)), [...S]),
    parseYAML: signature((s: string) => {
      if (s === '') return {}
      try {
        return fromYaml(YAML.parse(s, { mapAsMap: false }))
      } catch (err) {
        throw new Error(`yaml: ${(err as Error).message.split('\n')[0]}`)
      }
    }, [...S]),
    plugin: signature(plugin, ['string', 'string'], { variadic: true }),
    regexMatch: signature((re: string, s: string) => compileRe2(re).test(s), ['string', 'string']),
    regexReplaceAll: signature((re: string, repl: string, s: string) => goReplaceAll(re, repl, s), ['string', 'string', 'string']),
    replaceAll: signature((f: string, t: string, s: string) => (f === '' ? [...s].map((c) => t + c).join('') + t : s.split(f).join(t)), ['string', 'string', 'string']),
    sha256Hex: signature((s: string) => createHash('sha256').update(s, 'utf8').digest('hex'), [...S]),
    md5sum: signature((s: string) => createHash('md5').update(s, 'utf8').digest('hex'), [...S]),
    hmacSHA256Hex: signature((msg: string, key: string) => createHmac('sha256', key).update(msg, 'utf8').digest('hex'), ['string', 'string']),
    timestamp: signature((...s: string[]) => {
      const t = now()
      if (s.length === 0) return goTimeFormat(t, '2006-01-02T15:04:05Z07:00')
      if (s.length === 1) return s[0] === 'unix' ? String(Math.floor(t.getTime() / 1000)) : goTimeFormat(t, s[0])
      throw new Error(`timestamp: wrong number of arguments, expected 0 or 1, but got ${s.length}`)
    }, ['string'], { variadic: true }),
    toLower: signature((s: string) => s.toLowerCase(), [...S]),
    toUpper: signature((s: string) => s.toUpperCase(), [...S]),
    toTitle: signature(toTitle, [...S]),
    toJSON: (v: unknown) => wrapErr('toJSON', () => goJson(v)),
    toJSONPretty: (v: unknown) => wrapErr('toJSONPretty', () => goJson(v, { indent: '  ' })),
    toUnescapedJSON: (v: unknown) => wrapErr('toUnescapedJSON', () => goJson(v, { escapeHTML: false })),
    toUnescapedJSONPretty: (v: unknown) => wrapErr('toUnescapedJSONPretty', () => goJson(v, { indent: '  ', escapeHTML: false })),
    toYAML: (v: unknown) => wrapErr('toYAML', () => YAML.stringify(toPlain(v), { sortMapEntries: false, lineWidth: 0 }).trim()),
    toTOML: (v: unknown) => wrapErr('toTOML', () => goToml(v)),
    writeToFile: signature(writeToFile, ['string', 'string', 'string', 'string', 'string'], { variadic: true }),
    add: arith('add', (a, b) => a + b, (a, b) => a + b),
    subtract: arith('subtract', (a, b) => a - b, (a, b) => a - b),
    multiply: arith('multiply', (a, b) => a * b, (a, b) => a * b),
    divide: arith('divide', (a, b) => a / b, (a, b) => a / b),
    modulo: arith('modulo', (a, b) => a % b, (a, b) => a % b, false),
    minimum: pick('minimum', true),
    maximum: pick('maximum', false),
  }
  const scratch = new Scratch()
  m.scratch = signature(() => scratch, [])
  // Known upstream functions this build does not provide fail with a clear message instead of
  // "function not defined", so templates written for upstream still parse (and -parse-only passes).
  for (const [name, what] of UNSUPPORTED) m[name] = () => { throw new Error(`${name}: ${what} is not supported by this consul-template`) }
  // function_denylist: matching functions are replaced by one that always fails.
  for (const pattern of i.denylist) {
    const re = globToRegExp(pattern)
    for (const name of Object.keys(m)) if (re.test(name)) m[name] = () => { throw new Error('function is disabled') }
  }
  return m
}

const UNSUPPORTED: [string, string][] = [
  ['secret', 'Vault'],
  ['secrets', 'Vault'],
  ['pkiCert', 'Vault'],
  ['caRoots', 'Connect CA'],
  ['caLeaf', 'Connect CA'],
  ['sockaddr', 'go-sockaddr'],
  ['partitions', 'Consul Enterprise'],
  ['peerings', 'cluster peering'],
  ['exportedServices', 'cluster peering'],
  ['importedServices', 'cluster peering'],
  ['nomadServices', 'Nomad'],
  ['nomadService', 'Nomad'],
  ['nomadVarList', 'Nomad'],
  ['nomadVarListSafe', 'Nomad'],
  ['nomadVar', 'Nomad'],
  ['nomadVarExists', 'Nomad'],
  ['spew_dump', 'spew'],
  ['spew_sdump', 'spew'],
  ['spew_printf', 'spew'],
  ['spew_sprintf', 'spew'],
]

function wrapErr(fn: string, f: () => string): string {
  try {
    return f()
  } catch (err) {
    throw new Error(`${fn}: ${(err as Error).message}`)
  }
}
