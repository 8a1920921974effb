/**
 * Gossip encryption (memberlist's keyring and AES-GCM framing, in our own layout): every UDP
 * packet and every push-pull or ping stream body is sealed with the primary key as
 *   0xE1 (a first byte no plaintext message starts with) | 12-byte random nonce | ciphertext | 16-byte tag
 * and opened with whichever installed key fits, so a key can be rotated in (install, use, remove)
 * while members still send with the old one. The ring persists in data_dir (serf's local.keyring).
 */
import { createCipheriv, createDecipheriv, randomBytes, type CipherGCM, type DecipherGCM } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

/** WARNING: on the wire. */
export const SEALED = 0xe1
const NONCE = 12
const TAG = 16

/** A key in base64 as `consul keygen` prints it: 16, 24 or 32 bytes (AES-128, -192, -256). */
export function parseKey(text: string): Buffer {
  const key = Buffer.from(text, 'base64')
  if (key.toString('base64') !== text.replace(/\s+/g, '') || ![16, 24, 32].includes(key.length)) {
    throw new Error('the key must be 16, 24 or 32 bytes encoded in base64 (as consul keygen prints it)')
  }
  return key
}

export class Keyring {
  /** The primary key first: it seals; every key opens. */
  #keys: Buffer[]

  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0) throw new Error('a keyring holds at least one key')
    this.#keys = [...keys]
  }

  /** The keys in base64, primary first. */
  list(): string[] {
    return this.#keys.map((k) => k.toString('base64'))
  }

  get primary(): string {
    return this.#keys[0]!.toString('base64')
  }

  seal(plain: Uint8Array): Uint8Array {
    const key = this.#keys[0]!
    const nonce = randomBytes(NONCE)
    const cipher = createCipheriv(cipherName(key), key, nonce) as CipherGCM
    const body = Buffer.concat([cipher.update(plain), cipher.final()])
    return Buffer.concat([Buffer.from([SEALED]), nonce, body, cipher.getAuthTag()])
  }

  /** The plaintext, or undefined when no installed key opens it (or it is not sealed at all). */
  open(data: Uint8Array): Uint8Array | undefined {
    if (data.byteLength < 1 + NONCE + TAG || data[0] !== SEALED) return undefined
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    const nonce = buf.subarray(1, 1 + NONCE)
    const body = buf.subarray(1 + NONCE, buf.length - TAG)
    const tag = buf.subarray(buf.length - TAG)
    for (const key of this.#keys) {
      try {
        const decipher = createDecipheriv(cipherName(key), key, nonce) as DecipherGCM
        decipher.setAuthTag(tag)
        return Buffer.concat([decipher.update(body), decipher.final()])
      } catch {
        // Not this key: try the next.
      }
    }
    return undefined
  }

  install(key: Buffer): void {
    if (!this.#keys.some((k) => k.equals(key))) this.#keys.push(key)
  }

  /** Makes an installed key the primary; false when it is not installed. */
  use(key: Buffer): boolean {
    const i = this.#keys.findIndex((k) => k.equals(key))
    if (i < 0) return false
    this.#keys = [this.#keys[i]!, ...this.#keys.filter((_, j) => j !== i)]
    return true
  }

  /** Removes a key other than the primary; the reason when it cannot. */
  remove(key: Buffer): string | undefined {
    if (this.#keys[0]!.equals(key)) return 'Removing the primary key is not allowed'
    this.#keys = this.#keys.filter((k) => !k.equals(key))
    return undefined
  }

  /** Writes the ring to `file` (atomically), as a JSON list of base64 keys, primary first. */
  save(file: string): void {
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(`${file}.tmp`, JSON.stringify(this.list()), { mode: 0o600 })
    renameSync(`${file}.tmp`, file)
  }

  /** The ring kept in `file`, or undefined when there is none; throws naming the file when it is unreadable. */
  static load(file: string): Keyring | undefined {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      return undefined
    }
    try {
      const list = JSON.parse(text) as unknown
      if (!Array.isArray(list) || list.length === 0) throw new Error('not a list of keys')
      return new Keyring(list.map((k) => parseKey(String(k))))
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message}`)
    }
  }
}

/**
 * Sealed packets seen lately, by nonce (a random 96-bit nonce never repeats by chance): a packet
 * captured and sent again is dropped instead of being acted on twice. Two generations of at most
 * `size` nonces each, so memory stays bounded; a replay older than both generations gets through
 * and finds gossip's incarnation numbers already past it.
 */
export class ReplayFilter {
  #current = new Set<string>()
  #previous = new Set<string>()

  constructor(readonly size = 16_384) {}

  /** Whether this sealed packet's nonce was seen already (and remembers it). */
  seen(sealed: Uint8Array): boolean {
    const nonce = Buffer.from(sealed.buffer, sealed.byteOffset + 1, NONCE).toString('base64')
    if (this.#current.has(nonce) || this.#previous.has(nonce)) return true
    if (this.#current.size >= this.size) {
      this.#previous = this.#current
      this.#current = new Set()
    }
    this.#current.add(nonce)
    return false
  }
}

const cipherName = (key: Buffer): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' => `aes-${key.length * 8}-gcm` as 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm'
