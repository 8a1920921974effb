/**
 * A UDP worker process (see udp-workers.ts): answers queries on the sockets the agent hands it
 * from the whole answers the agent mirrors to it; relays every other datagram to the agent.
 * Imports nothing heavy, so it starts in a few tens of milliseconds.
 */
import type dgram from 'node:dgram'
import { performance } from 'node:perf_hooks'
import { isPtrQuery, renderWhole, wireQuestionKey, type WholeAnswer } from './fast-path.js'
import { SampleBatcher } from '../lib/metrics.js'
import { DNS_LIMITS } from './limits.js'
import type { FromWorker, ToWorker } from './udp-workers.js'

const HEADER_BYTES = 12
const QR_BIT = 0x80
/** How often the counters and timings go to the agent (for /v1/agent/self Stats and dns.* timings). */
const STATS_EVERY_MS = 1000

const answers = new Map<string, WholeAnswer>()
let answered = 0
let relayed = 0
/** Answer times (ms, the agent's unit for dns.* timings), reported with the counters. */
const domainTimes = new SampleBatcher()
const ptrTimes = new SampleBatcher()
/** Relays written to the channel but not yet flushed: past the limit a query is dropped, as a full socket buffer would. */
let relaysInFlight = 0

function toAgent(msg: FromWorker, done?: () => void): void {
  if (!process.connected) return
  process.send!(msg, undefined, {}, () => done?.())
}

function onQuery(listener: number, socket: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
  if (msg.length >= HEADER_BYTES && (msg[2]! & QR_BIT) === 0) {
    const start = performance.now()
    const key = wireQuestionKey(msg, 'udp')
    const entry = key === undefined ? undefined : answers.get(key)
    if (entry) {
      answered++
      socket.send(renderWhole(entry, msg.readUInt16BE(0), Math.random), rinfo.port, rinfo.address)
      ;(isPtrQuery(msg) ? ptrTimes : domainTimes).add(performance.now() - start)
      return
    }
  }
  if (relaysInFlight >= DNS_LIMITS.workerMaxRelays) return
  relaysInFlight++
  relayed++
  toAgent({ type: 'query', listener, query: msg, port: rinfo.port, address: rinfo.address }, () => relaysInFlight--)
}

process.on('message', (msg: ToWorker, handle?: unknown) => {
  switch (msg.type) {
    case 'socket': {
      const socket = handle as dgram.Socket | undefined
      if (!socket) return
      socket.on('message', (m, rinfo) => onQuery(msg.listener, socket, m, rinfo))
      // Errors on a shared socket are the agent's to log; a worker only must not die of one.
      socket.on('error', () => undefined)
      return
    }
    case 'put':
      if (answers.size >= DNS_LIMITS.cacheEntries) answers.clear()
      answers.set(msg.key, msg.entry)
      return
    case 'clear':
      answers.clear()
      return
  }
})

// The agent is gone (stopped, crashed or killed): so is this worker.
process.on('disconnect', () => process.exit(0))

let reported = ''
setInterval(() => {
  const now = `${answered}/${relayed}`
  if (now === reported) return
  reported = now
  toAgent({ type: 'stats', answered, relayed, timings: { domain: domainTimes.take(), ptr: ptrTimes.take() } })
}, STATS_EVERY_MS).unref()
