/**
 * Headless Chromium (Debian's, which .ci/run installs) driven by playwright-core, for the web UI's
 * tests: a page that records every JavaScript error and console error, and screenshots under
 * test-output/ui/.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { ROOT } from './agent.js'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const SCREENSHOTS = join(ROOT, 'test-output', 'ui')

/** Why the browser tests cannot run here, or undefined. In CI a missing browser is a failure, not a skip. */
export function noBrowser(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`)
  return `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`
}

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
}

export interface WatchedPage {
  page: Page
  /** Every uncaught exception and console error so far, but an API's 404 the page handles (a missing KV key). */
  errors: string[]
  shot(name: string): Promise<void>
}

export async function openPage(browser: Browser, opts: { colorScheme?: 'light' | 'dark' } = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: opts.colorScheme ?? 'light' })
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`))
  page.on('console', (m) => {
    if (m.type() !== 'error') return
    const where = m.location().url
    // Chromium logs every non-2xx fetch; Consul answers a missing key or an empty folder with 404.
    if (/status of 404/.test(m.text()) && /\/v1\/(kv|internal\/ui\/node)\//.test(where)) return
    errors.push(`console: ${m.text()} (${where})`)
  })
  mkdirSync(SCREENSHOTS, { recursive: true })
  return { page, errors, shot: async (name) => void (await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })) }
}
