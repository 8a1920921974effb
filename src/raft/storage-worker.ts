/**
 * The storage thread. It owns the SQLite connection so that fsyncs never stall the event
 * loop that serves HTTP. Requests that arrive while a commit is under way are merged into the
 * next transaction: that is the group commit, one fsync for many acknowledged writes.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { SqliteLog } from './sqlite-log.js'
import type { StorageRequest, StorageReply } from './sqlite-storage.js'

const port = parentPort!
const log = new SqliteLog((workerData as { dir: string }).dir)
let queue: StorageRequest[] = []
let scheduled = false

port.on('message', (req: StorageRequest) => {
  queue.push(req)
  if (!scheduled) {
    scheduled = true
    setImmediate(flush)
  }
})

function flush(): void {
  scheduled = false
  const work = queue
  queue = []
  const replies: StorageReply[] = []
  try {
    log.batch(() => {
      for (const req of work) {
        switch (req.op) {
          case 'append':
            log.append(req.entries)
            break
          case 'hardState':
            log.setHardState(req.state)
            break
          case 'snapshot':
            log.saveSnapshot(req.snapshot, req.compactThrough)
            break
          case 'length':
          case 'close':
            break
        }
      }
    })
    for (const req of work) {
      replies.push({ id: req.id, ...(req.op === 'length' ? { value: log.logLength() } : {}) })
      if (req.op === 'snapshot') log.checkpoint()
    }
  } catch (err) {
    for (const req of work) replies.push({ id: req.id, error: (err as Error).message })
  }
  port.postMessage(replies)
  if (work.some((r) => r.op === 'close')) {
    log.close()
    port.close()
  }
}
