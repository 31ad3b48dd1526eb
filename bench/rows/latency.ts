/**
 * Row 2: insert → profile delay on the local stack, at a steady rate. Each insert is a PutItem for a
 * customer of its own; the delay runs from PutItem's acknowledgement to the first strongly consistent
 * read that shows the amount on the profile. One poller reads every outstanding profile in
 * BatchGetItems, so polling adds one request per round, not one per insert.
 */
import { BatchGetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb"
import * as Runner from "@dyna/tools/local/Runner"
import * as Pipeline from "../support/Pipeline.js"
import * as LocalTables from "../support/LocalTables.js"
import * as Sdk from "../support/Sdk.js"
import { atMost, type Bench } from "../Row.js"

/** Inserts per second, one every 50 ms, on a fixed schedule (a slow insert does not push the next ones back). */
const RATE = 20
/** The poller's pause between two rounds of reads. */
const POLL_MILLIS = 5
/**
 * Rows put in a burst and counted before measuring: DynamoDB Local's JVM compiles its hot paths over the
 * first thousands of requests, and the handler's runtime and our JIT warm up too.
 */
const WARM_UP = { full: 2_000, smoke: 300 } as const

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The q-quantile of sorted values (nearest rank). */
const quantile = (sorted: ReadonlyArray<number>, q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN

export const bench: Bench = async ({ endpoint, size, log }) => {
  const inserts = size === "smoke" ? 50 : 1_000
  const { names, streamArn } = await LocalTables.makeStreamed(endpoint, "latency")
  const db = Sdk.client(endpoint)
  // When each customer's record reached the handler, and when the handler returned.
  const invoked = new Map<string, { readonly startedAt: number; readonly endedAt: number }>()
  const pipeline = Pipeline.start(endpoint, names, streamArn, {
    onInvoke: (event, startedAt, endedAt) => {
      for (const r of event.Records) invoked.set(r.dynamodb?.NewImage?.["CustID"]?.S ?? "", { startedAt, endedAt })
    }
  })
  try {
    await pipeline.ready(30_000)

    // Inserted and not yet seen on its profile: the amount to look for, and when PutItem was acknowledged.
    const outstanding = new Map<string, { readonly amount: string; readonly ackedAt: number; readonly measured: boolean }>()
    const delays: Array<number> = []
    // Per measured insert: acknowledged → handler invoked (stream and runner), invoked → returned (handler), returned → seen (poller).
    const parts: Array<readonly [toInvoke: number, inHandler: number, toSeen: number]> = []
    let writing = true

    const poller = async () => {
      while (writing || outstanding.size > 0) {
        const keys = [...outstanding.keys()].slice(0, 100)
        if (keys.length > 0) {
          const out = await db.send(new BatchGetItemCommand({
            RequestItems: {
              [names.profiles]: { Keys: keys.map((k) => ({ CustID: { S: k } })), ConsistentRead: true, ProjectionExpression: "CustID, TotalTnValue" }
            }
          }))
          const seenAt = performance.now()
          for (const item of out.Responses?.[names.profiles] ?? []) {
            const custId = item.CustID?.S ?? ""
            const wanted = outstanding.get(custId)
            if (wanted === undefined || item.TotalTnValue?.N !== wanted.amount) continue
            outstanding.delete(custId)
            if (!wanted.measured) continue
            delays.push(seenAt - wanted.ackedAt)
            const call = invoked.get(custId)
            if (call !== undefined) parts.push([call.startedAt - wanted.ackedAt, call.endedAt - call.startedAt, seenAt - call.endedAt])
          }
          for (const [custId, { ackedAt }] of outstanding) {
            if (seenAt - ackedAt > 30_000) throw new Error(`${custId} was not counted within 30 s`)
          }
        }
        await sleep(POLL_MILLIS)
      }
    }

    const insert = async (i: number, measured: boolean) => {
      const custId = `lat-${i}`
      const amount = String(1 + (i % 500))
      await db.send(new PutItemCommand({ TableName: names.transactions, Item: Sdk.transaction(custId, 1, Number(amount)) }))
      outstanding.set(custId, { amount, ackedAt: performance.now(), measured })
    }

    const warmUp = WARM_UP[size]
    await Sdk.putAll(db, names.transactions, Array.from({ length: warmUp }, (_, i) => Sdk.transaction(`warm-${i}`, 1, 1)), 16)
    await pipeline.handledReach(warmUp, 120_000)
    const polling = poller()
    polling.catch(() => undefined) // awaited below; this only keeps an early failure from counting as unhandled
    // The poller and the insert path warm up too, unmeasured.
    for (let i = 0; i < 20; i++) await insert(i, false)
    while (outstanding.size > 0) await sleep(POLL_MILLIS)

    const startedAt = performance.now()
    const writes: Array<Promise<void>> = []
    for (let n = 0; n < inserts; n++) {
      const wait = startedAt + (n * 1000) / RATE - performance.now()
      if (wait > 0) await sleep(wait)
      const write = insert(20 + n, true)
      write.catch(() => undefined) // awaited below, with the others
      writes.push(write)
      if ((n + 1) % 200 === 0) log(`${n + 1}/${inserts} inserts`)
    }
    await Promise.all(writes)
    writing = false
    await polling
    if (delays.length !== inserts) throw new Error(`measured ${delays.length} of ${inserts} inserts`)

    const sorted = [...delays].sort((a, b) => a - b)
    const p50 = quantile(sorted, 0.5)
    const p90 = quantile(sorted, 0.9)
    const p99 = quantile(sorted, 0.99)
    const max = quantile(sorted, 1)
    const median = (i: 0 | 1 | 2) => quantile(parts.map((p) => p[i]).sort((a, b) => a - b), 0.5)
    const split = `medians: acknowledged → handler invoked ${median(0).toFixed(0)} ms (stream, runner poll), in the handler ` +
      `${median(1).toFixed(0)} ms, handler returned → read ${median(2).toFixed(0)} ms (the poller)`
    const fields = { unit: "ms", baselineName: "target" }
    return [
      atMost({
        ...fields,
        name: "2. insert → profile, p50",
        dyna: p50,
        baseline: 150,
        note: `${inserts} inserts at ${RATE}/s on a fixed schedule, each for a customer of its own, after ${warmUp + 20} unmeasured; ` +
          `PutItem acknowledged → first consistent read showing the amount (one BatchGetItem poller, ${POLL_MILLIS} ms between ` +
          `rounds); the runner and the real handler run in this process (the local stack's composition, no process boundary), ` +
          `polling an idle shard every ${Runner.POLL_INTERVAL_MILLIS} ms; ${split}.`
      }, 1),
      atMost({ ...fields, name: "2. insert → profile, p99", dyna: p99, baseline: 500, note: `p90 ${p90.toFixed(0)} ms, max ${max.toFixed(0)} ms.` }, 1)
    ]
  } finally {
    await pipeline.stop()
    db.destroy()
  }
}
