import type { ErrorObject } from 'ajv'
import validateChecklist from './checklist-validate.generated.js'
import type { ParseError } from 'jsonc-parser'
import { createRequire } from 'node:module'
import { DISTRIBUTIVE_LIMITS } from './limits.js'
import { lookupCheck } from './registry.js'
import { ChecklistError, ParamError, type CheckRun } from './types.js'

export type Severity = 'critical' | 'warning'

/** One entry of a checklist, parsed and ready to run. */
export interface CheckSpec {
  /** 1-based position in its checklist, as error messages and reports name it. */
  position: number
  /** The check type as written (`checksum`, `ID: "fileMatches"`). */
  id: string
  /** Optional free-text name from the file. */
  name?: string
  parameters: string[]
  /** What a failure counts as: critical (default) or warning (an extension: the `severity` key). */
  severity: Severity
  run: CheckRun
}

export interface Checklist {
  name: string
  /** Where it came from (a path, a URL, `<stdin>`), for messages. */
  source: string
  checks: CheckSpec[]
}

/** `yaml` is loaded on first use: most checklists are JSON, and a run every 10 s should not pay for a YAML parser. */
let yamlModule: typeof import('yaml') | undefined
function yaml(): typeof import('yaml') {
  yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml')
  return yamlModule
}

/**
 * The schema is compiled by ajv ahead of time (checklist-validate.generated.ts, kept in step with
 * checklist-schema.ts by test/distributive/validator.test.ts): compiling it at start-up cost more than the rest
 * of a 50-check run.
 */
const validate = validateChecklist as ((doc: unknown) => boolean) & { errors?: ErrorObject[] | null }

/** Lower-cases object keys two levels down (checklist and checks) and turns scalar parameters into strings. */
function normalize(doc: unknown): unknown {
  if (!isObject(doc)) return doc
  const top = lowerKeys(doc)
  if (Array.isArray(top['checklist'])) {
    top['checklist'] = top['checklist'].map((c: unknown) => {
      if (!isObject(c)) return c
      const check = lowerKeys(c)
      if (check['parameters'] === undefined || check['parameters'] === null) check['parameters'] = []
      if (Array.isArray(check['parameters'])) {
        check['parameters'] = check['parameters'].map((p: unknown) => (typeof p === 'number' || typeof p === 'boolean' ? String(p) : p))
      }
      if (typeof check['severity'] === 'string') check['severity'] = check['severity'].toLowerCase()
      return check
    })
  }
  return top
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function lowerKeys(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) out[k.toLowerCase()] = v
  return out
}

/** Turns the first ajv error into a sentence naming the check's position. */
function describeSchemaError(err: ErrorObject, doc: unknown): string {
  const parts = err.instancePath.split('/').slice(1)
  if (parts[0] !== 'checklist' || parts.length < 2) {
    if (err.keyword === 'required') return 'no "Checklist" array of checks'
    if (err.keyword === 'minItems') return 'the checklist has no checks'
    if (err.keyword === 'maxItems') return `more than ${DISTRIBUTIVE_LIMITS.checksPerChecklistMax} checks`
    return `${err.instancePath.slice(1) || 'checklist'} ${err.message ?? 'is invalid'}`
  }
  const pos = Number(parts[1]) + 1
  const entry = (doc as { checklist: Record<string, unknown>[] }).checklist[pos - 1]
  const id = isObject(entry) ? String(entry['check'] ?? entry['id'] ?? '') : ''
  const where = `check #${pos}${id ? ` (${id})` : ''}`
  const missing = (err.params as { missingProperty?: string }).missingProperty
  if (err.keyword === 'anyOf' || (err.keyword === 'required' && (missing === 'check' || missing === 'id'))) return `${where}: no check type (an "ID" or "Check" key)`
  if (parts[2] === 'parameters') return `${where}: parameters must be an array of strings, numbers or booleans`
  return `${where}: ${parts.slice(2).join('.') || 'entry'} ${err.message ?? 'is invalid'}`
}

function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n')
  return `${before.length}:${before[before.length - 1]!.length + 1}`
}

/** Parses JSON (with positions in errors) or YAML (failsafe schema: every scalar is a string, so `0644` stays `0644`). */
function parseDocument(text: string, source: string, format: 'json' | 'yaml'): unknown {
  if (format === 'json') {
    try {
      return JSON.parse(text) as unknown
    } catch {
      // JSON.parse does not always say where; jsonc-parser does (loaded only now, to keep start-up short).
      const jsonc = createRequire(import.meta.url)('jsonc-parser') as typeof import('jsonc-parser')
      const errors: ParseError[] = []
      jsonc.parse(text, errors, { allowTrailingComma: false, disallowComments: true, allowEmptyContent: false })
      const e = errors[0]
      throw new ChecklistError(`${source}:${lineCol(text, e?.offset ?? 0)}: invalid JSON${e ? `: ${jsonc.printParseErrorCode(e.error)}` : ''}`)
    }
  }
  try {
    return yaml().parse(text, { schema: 'failsafe', uniqueKeys: false, maxAliasCount: 100 })
  } catch (err) {
    const e = err as Error & { linePos?: { line: number; col: number }[] }
    const pos = e.linePos?.[0] ? `${e.linePos[0].line}:${e.linePos[0].col}: ` : ''
    throw new ChecklistError(`${source}:${pos}invalid YAML: ${e.message.split('\n')[0]}`)
  }
}

/** Picks the parser from the extension, or from the first character for stdin and URLs. */
export function formatOf(source: string, text: string): 'json' | 'yaml' {
  if (/\.json$/i.test(source)) return 'json'
  if (/\.ya?ml$/i.test(source)) return 'yaml'
  return /^\s*[{[]/.test(text) ? 'json' : 'yaml'
}

function countText(p: number | readonly [number, number]): string {
  if (typeof p === 'number') return `${p} parameter${p === 1 ? '' : 's'}`
  return p[1] === Infinity ? `at least ${p[0]} parameters` : `${p[0]} to ${p[1]} parameters`
}

/**
 * Parses and validates one checklist. Throws ChecklistError naming the source, the check's position and the reason
 * for: bad syntax, no checks, an unknown check, a wrong parameter count, or a bad parameter (regex, number, mode).
 */
export function parseChecklist(text: string, source: string, format: 'json' | 'yaml' = formatOf(source, text)): Checklist {
  if (text.length > DISTRIBUTIVE_LIMITS.checklistBytesMax) throw new ChecklistError(`${source}: larger than ${DISTRIBUTIVE_LIMITS.checklistBytesMax} bytes`)
  if (text.trim() === '') throw new ChecklistError(`${source}: empty checklist file`)
  // Editors on Windows save JSON with a byte-order mark, which JSON parsers reject.
  const doc = normalize(parseDocument(text.replace(/^\uFEFF/, ''), source, format))
  if (!isObject(doc)) throw new ChecklistError(`${source}: a checklist must be an object with "Name" and "Checklist"`)
  if (!validate(doc)) throw new ChecklistError(`${source}: ${describeSchemaError(validate.errors![0]!, doc)}`)
  const raw = doc as unknown as { name?: string; checklist: { name?: string; check?: string; id?: string; parameters: string[]; severity?: Severity }[] }
  const checks = raw.checklist.map((c, i): CheckSpec => {
    const id = (c.check ?? c.id)!
    if (id.trim() === '') throw new ChecklistError(`${source}: check #${i + 1}: empty check type`)
    const where = `${source}: check #${i + 1} (${id})`
    const def = lookupCheck(id)
    if (!def) throw new ChecklistError(`${where}: unknown check`)
    const [min, max] = typeof def.params === 'number' ? [def.params, def.params] : def.params
    if (c.parameters.length < min || c.parameters.length > max) {
      throw new ChecklistError(`${where}: expected ${countText(def.params)}, got ${c.parameters.length}`)
    }
    let run: CheckRun
    try {
      run = def.parse(c.parameters)
    } catch (err) {
      if (err instanceof ParamError) throw new ChecklistError(`${where}: ${err.message}`)
      throw err
    }
    return { position: i + 1, id, name: c.name, parameters: c.parameters, severity: c.severity ?? 'critical', run }
  })
  return { name: raw.name ?? '', source, checks }
}
