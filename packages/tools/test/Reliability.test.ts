/**
 * The reliability suite (`pnpm test:faults`; smaller in `pnpm test`), on DynamoDB Local with the real
 * handler and the local runner, nothing of ours mocked and no production code path changed for it:
 *
 * - Rows go into CustTransactions with real BatchWriteItem calls and reach the handler through the
 *   table's stream and `local/Runner.ts` (in this process: the deployment's mapping, but batches of 10
 *   and 50 retries). The writer stays at most 200 rows ahead of the stream. `ops/Backfill.ts` recounts
 *   every customer beside it, started half way through the writes (at a third and two thirds at full size).
 * - The function the runner invokes (`support/ReliabilityFunction.ts`) runs the real handler
 *   (`Handler.make` over the live services) in a Node process of its own (`support/ReliabilityWorker.ts`,
 *   bundled by esbuild as the Lambda artifact is), over IPC. It delivers every batch 2 or 3 times (one
 *   after another, or two or three of them at once, as two environments can hold one batch) and returns
 *   the last answer to the runner.
 * - Faults come from the DynamoDB client's middleware (the seam `DynamoLocal.client` has; the worker's
 *   client has the same): 10% of all calls, the handler's and the backfill's, are answered before they are
 *   sent with ProvisionedThroughputExceeded, Throttling, TransactionConflict or a TransactionCanceled for a
 *   conflict; 2% of writes land but their response is lost (a TimeoutError). On batch 10 and every 50
 *   after, the batch's first customer is a hot key while it is delivered: every call on it is throttled
 *   through all the handler's retries, so the answer reports its records and the runner delivers again.
 * - Kills are real processes dying: on batch 25 and every 100 batches after, the worker is armed; once a
 *   profile write of that batch has landed it tells the parent and stops answering, and the parent
 *   SIGKILLs it there, mid-batch. The invocation fails as Lambda's does when its runtime exits
 *   (Runtime.ExitError); the runner bisects and retries; a spare worker, started ahead, takes over.
 * - At the end every profile equals the sum of its customer's rows (the dollars lost and doubled are
 *   counted, and must be 0), every row's TnNum is in its customer's applied log, the status follows the
 *   rule, EliteSince is set exactly for the Elite, each of them has one EliteQualified event and no one
 *   else has any, nothing was quarantined, and the runner has every shard caught up, nothing pending and
 *   nothing given up; every record was answered as handled.
 *
 * Malformed input (`support/malformed.ts`, one entry per kind, with the outcome README documents) goes
 * to the real handler directly: each kind between two good records of its own customer; then every kind in
 * one batch, under the same faults, delivered until answered without failures and once more. These tests
 * run beside the pipeline (`describe.concurrent`): it waits on DynamoDB more than it computes.
 *
 * FAULTS_SIZE=full: 10,000 transactions over 1,000 customers; otherwise 500 over 50. FAULTS_SEED replays a
 * run's data, delivery pattern and faults (the seed is printed with the figures; timing still varies).
 */
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb"
import * as AppliedLog from "@dyna/core/AppliedLog"
import * as Elite from "@dyna/core/Elite"
import * as Events from "@dyna/core/Events"
import type { DynamoDBStreamEvent } from "aws-lambda"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Result from "effect/Result"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import * as Deployment from "@dyna/aws/Deployment"
import * as OnFailure from "../src/local/OnFailure.js"
import * as Runner from "../src/local/Runner.js"
import * as RunnerProgress from "../src/local/RunnerProgress.js"
import * as Backfill from "../src/ops/Backfill.js"
import { Quarantine, type Rejected } from "@dyna/aws/Quarantine"
import * as DynamoLocal from "../../aws/test/support/DynamoLocal.js"
import * as LocalStreams from "./support/LocalStreams.js"
import * as Malformed from "../../aws/test/support/malformed.js"
import * as Faults from "./support/ReliabilityFaults.js"
import * as ReliabilityFunction from "./support/ReliabilityFunction.js"

const FULL = process.env.FAULTS_SIZE === "full"
const SIZE = FULL
  ? { customers: 1_000, transactions: 10_000, backfills: 2 }
  : { customers: 50, transactions: 500, backfills: 1 }
const SEED = Number(process.env.FAULTS_SEED ?? Math.floor(Math.random() * 2 ** 31))
const RATES: Faults.Rates = { before: 0.1, lost: 0.02 }
const BATCH_SIZE = 10
const KILL_EVERY = 100
const HOT_EVERY = 50
/** The writer stays at most this many rows ahead of what the stream has handled, so the two overlap. */
const MAX_AHEAD = 200

const dir = mkdtempSync(join(tmpdir(), "reliability-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/**
 * Made up front, side by side. Record kinds and event kinds of malformed input get tables of their
 * own: an event `null` and a record `null` are the same content, and so the same quarantine item.
 */
const setup = {} as {
  readonly records: DynamoLocal.TableNames
  readonly events: DynamoLocal.TableNames
  readonly mixed: DynamoLocal.TableNames
  readonly pipeline: DynamoLocal.TableNames
  readonly workerFile: string
}
beforeAll(async () => {
  const [records, events, mixed, pipeline, workerFile] = await Promise.all([
    DynamoLocal.freshTables(),
    DynamoLocal.freshTables(),
    DynamoLocal.freshTables(),
    DynamoLocal.freshTables(),
    ReliabilityFunction.bundle(dir)
  ])
  Object.assign(setup, { records, events, mixed, pipeline, workerFile })
})

/** What the suite found, printed as one table when the file is done. */
const table: Array<readonly [string, string | number]> = []
afterAll(() => {
  if (table.length === 0) return
  const width = Math.max(...table.map(([k]) => k.length))
  const lines = table.map(([k, v]) => `| ${k.padEnd(width)} | ${String(typeof v === "number" ? v.toLocaleString("en-US") : v).padStart(12)} |`)
  console.log([`reliability figures (${FULL ? "full" : "small"} size, FAULTS_SEED=${SEED})`, `| ${"figure".padEnd(width)} | ${"value".padStart(12)} |`, `|${"-".repeat(width + 2)}|${"-".repeat(14)}|`, ...lines].join("\n"))
})

interface Row {
  readonly custId: string
  readonly tnNum: number
  readonly tnValue: number
}

/**
 * `transactions` rows over `customers`, every customer at least one, in a random order. A tenth of the
 * customers end at exactly $1,000 and a tenth at $999; the others anywhere from $100 to $2,500.
 */
const dataset = (customers: number, transactions: number, next: () => number): Array<Row> => {
  const counts = Array.from({ length: customers }, () => 1)
  for (let i = customers; i < transactions; i++) counts[Math.floor(next() * customers)]! += 1
  const rows: Array<Row> = []
  counts.forEach((k, c) => {
    const pick = next()
    const target = Math.max(k, pick < 0.1 ? 1000 : pick < 0.2 ? 999 : 100 + Math.floor(next() * 2400))
    const weights = Array.from({ length: k }, () => next())
    const sum = weights.reduce((a, b) => a + b, 0)
    const values = weights.map((w) => 1 + Math.floor(((target - k) * w) / sum))
    values[k - 1]! += target - values.reduce((a, b) => a + b, 0)
    values.forEach((tnValue, j) => rows.push({ custId: `rel-${String(c).padStart(4, "0")}`, tnNum: j + 1, tnValue }))
  })
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[rows[i], rows[j]] = [rows[j]!, rows[i]!]
  }
  return rows
}



const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits until `done` holds; fails with `what` after `timeoutMs`, or at once if `failed` says why. */
const waitFor = async (what: string, done: () => boolean, timeoutMs: number, failed: () => string | undefined = () => undefined) => {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    const reason = failed()
    if (reason !== undefined) throw new Error(`${what}: ${reason}`)
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs / 1000} s`)
    await sleep(50)
  }
}

/**
 * What the tables say, against the rows: every problem found, and the dollars lost (profile below its
 * rows) and doubled (above).
 */
const audit = async (names: DynamoLocal.TableNames) => {
  const [rows, profiles, events, rejected] = await Promise.all([
    DynamoLocal.scanTable(names.transactions),
    DynamoLocal.scanTable(names.profiles),
    DynamoLocal.scanTable(names.events),
    DynamoLocal.scanTable(names.rejected)
  ])
  const sums = new Map<string, number>()
  const tnNums = new Map<string, Array<string>>()
  for (const r of rows) {
    const custId = String(r.CustID)
    sums.set(custId, (sums.get(custId) ?? 0) + Number(r.TnValue))
    tnNums.set(custId, [...(tnNums.get(custId) ?? []), String(r.TnNum)])
  }
  const byCustomer = new Map(profiles.map((p) => [String(p.CustID), p]))
  const problems: Array<string> = []
  let lost = 0
  let doubled = 0
  let profileDollars = 0
  let elite = 0
  for (const [custId, sum] of sums) {
    const p = byCustomer.get(custId)
    const total = Number(p?.TotalTnValue ?? 0)
    profileDollars += total
    if (total < sum) lost += sum - total
    if (total > sum) doubled += total - sum
    if (total !== sum) problems.push(`${custId}: rows ${sum}, profile ${String(p?.TotalTnValue)}`)
    const status = Elite.statusFor(sum)
    if (status === "Elite") elite++
    if (p?.CustStatus !== Elite.statusFor(total)) problems.push(`${custId}: ${String(p?.CustStatus)} at ${total}`)
    if ((p?.EliteSince !== undefined) !== (status === "Elite")) problems.push(`${custId}: ${status} with EliteSince ${String(p?.EliteSince)}`)
    const mine = events.filter((e) => e.CustID === custId)
    if (mine.length !== (status === "Elite" ? 1 : 0)) problems.push(`${custId}: ${status} at ${sum} with ${mine.length} EliteQualified event(s)`)
    for (const e of mine) {
      if (e.QualifiedAt !== p?.EliteSince || Number(e.TotalTnValue) < 1000 || Number(e.TotalTnValue) > sum) {
        problems.push(`${custId}: event at ${String(e.QualifiedAt)} with ${String(e.TotalTnValue)}, EliteSince ${String(p?.EliteSince)}`)
      }
    }
    // Every row counted under its own TnNum: none slipped in unguarded.
    const applied = Result.getOrThrow(AppliedLog.decode(typeof p?.AppliedTn === "string" ? p.AppliedTn : ""))
    const missing = (tnNums.get(custId) ?? []).filter((n) => !applied.has(n))
    if (missing.length > 0) problems.push(`${custId}: TnNum ${missing.join(", ")} not in AppliedTn`)
  }
  for (const custId of byCustomer.keys()) if (!sums.has(custId)) problems.push(`${custId}: a profile without rows`)
  for (const e of events) if (!sums.has(String(e.CustID))) problems.push(`${String(e.CustID)}: an event without rows`)
  for (const r of rejected) problems.push(`quarantined: ${String(r.RecordId)} ${String(r.Reason)}`)
  const rowDollars = [...sums.values()].reduce((a, b) => a + b, 0)
  return { problems, lost, doubled, rows: rows.length, rowDollars, profileDollars, elite, events: events.length }
}

/** Writes rows as a shop would, 25 per BatchWriteItem, each request only once `canWrite` allows it. */
const writeRows = async (
  names: DynamoLocal.TableNames,
  rows: ReadonlyArray<Row>,
  options: { readonly canWrite: (written: number) => boolean; readonly onWritten: (written: number) => Promise<void> }
) => {
  const db = DynamoLocal.client()
  let written = 0
  for (let i = 0; i < rows.length; i += 25) {
    while (!options.canWrite(written)) await sleep(20)
    await DynamoLocal.putRows(db, names.transactions, rows.slice(i, i + 25))
    written = Math.min(rows.length, i + 25)
    await options.onWritten(written)
  }
  db.destroy()
}


/** What one handler call did: its answer (or what it threw) and its "batch processed" counts. */
const call = async (live: ReturnType<typeof DynamoLocal.handler>, event: unknown) => {
  const before = live.summaries().length
  const response = await live.handler(event as DynamoDBStreamEvent).then(
    (r): unknown => r,
    (error: unknown) => ({ threw: String(error) })
  )
  return { response, summary: live.summaries().slice(before).at(-1) ?? {} }
}

/** The quarantined items a kind's bad records became: matched by their raw record (kept whole, or its start). */
const rejectionsOf = (rejected: ReadonlyArray<Rejected>, raw: unknown) => {
  const json = JSON.stringify(raw)
  // A record past the excerpt keeps its start, and says what was cut.
  return rejected.filter((r) => r.rawRecord === json || (r.cut.some((c) => c.field === "rawRecord") && json.startsWith(r.rawRecord)))
}

const quarantined = (names: DynamoLocal.TableNames) =>
  DynamoLocal.run(names, Effect.gen(function*() {
    return yield* (yield* Quarantine).list()
  }))

describe.concurrent("malformed input", () => {
  const recordKinds = Malformed.kinds.filter((k) => k.records !== undefined)
  const eventKinds = Malformed.kinds.filter((k) => k.event !== undefined)
  let sequence = 0
  const seq = () => Events.sequenceNumber(++sequence)
  /** A kind's records between two good ones of its customer ($100 and $200), as one event. */
  const between = (kind: Malformed.Kind, custId: string) => {
    const bad = kind.records?.(seq(), custId) ?? []
    const good = (tnNum: number, tnValue: number) => Events.insert({ custId, tnNum, tnValue, sequenceNumber: seq() })
    return { bad, records: [good(1, 100), ...bad, good(2, 200)] }
  }

  it(`quarantines or skips ${Malformed.malformed.length} kinds of malformed input as documented, applies the rest of the batch, never throws`, async () => {
    const { records: names, events: eventNames } = setup
    // Four handlers (each with its own log) take the kinds side by side; event kinds have tables of their own.
    const lanes = Array.from({ length: 4 }, () => DynamoLocal.handler(names))
    const eventLive = DynamoLocal.handler(eventNames)
    const wrong: Array<string> = []
    const expect = (kind: Malformed.Kind, ok: boolean, what: string) => void (ok || wrong.push(`${kind.name}: ${what}`))
    let abnormal = 0
    const answeredNormally = (kind: Malformed.Kind, response: unknown) => {
      const normal = JSON.stringify(response) === JSON.stringify({ batchItemFailures: [] })
      if (!normal) abnormal++
      expect(kind, normal, `answered ${JSON.stringify(response).slice(0, 300)}`)
    }
    try {
      const batches = recordKinds.map((kind, i) => ({ kind, custId: `mal-${i}`, ...between(kind, `mal-${i}`) }))
      await Promise.all(lanes.map(async (live, lane) => {
        for (const { kind, records, bad } of batches.filter((_, i) => i % lanes.length === lane)) {
          const { response, summary } = await call(live, { Records: records })
          answeredNormally(kind, response)
          const counts = { records: records.length, failed: 0, ...countsFor(kind.outcome, bad.length) }
          for (const [name, n] of Object.entries(counts)) expect(kind, summary[name] === n, `${name} ${String(summary[name])}, not ${n}`)
        }
      }))
      for (const kind of eventKinds) {
        const { response, summary } = await call(eventLive, kind.event)
        answeredNormally(kind, response)
        const counts = { records: 0, applied: 0, failed: 0, quarantined: kind.outcome._tag === "Quarantined" ? 1 : 0 }
        for (const [name, n] of Object.entries(counts)) expect(kind, summary[name] === n, `${name} ${String(summary[name])}, not ${n}`)
      }

      // The good records of every batch were counted, and only they (and what a kind adds).
      const profiles = new Map((await DynamoLocal.scanTable(names.profiles)).map((p) => [String(p.CustID), Number(p.TotalTnValue)]))
      for (const { kind, custId } of batches) {
        expect(kind, profiles.get(custId) === 300 + (kind.dollars ?? 0), `${custId} has ${String(profiles.get(custId))}`)
      }
      for (const custId of profiles.keys()) if (!batches.some((b) => b.custId === custId)) wrong.push(`a profile for ${custId.slice(0, 40)}…`)

      // Each bad record is in the quarantine once, with the field at fault and a reason naming it.
      const rejected = await quarantined(names)
      const eventRejected = await quarantined(eventNames)
      let expectedItems = 0
      for (const kind of Malformed.kinds) {
        const raws = kind.event !== undefined ? [kind.event] : (batches.find((b) => b.kind === kind)?.bad ?? [])
        for (const raw of raws) {
          const items = rejectionsOf(kind.event !== undefined ? eventRejected : rejected, raw)
          if (kind.outcome._tag !== "Quarantined") {
            expect(kind, items.length === 0, `quarantined ${items.length} time(s)`)
            continue
          }
          expectedItems++
          const { field, reason } = kind.outcome
          expect(kind, items.length === 1, `quarantined ${items.length} time(s)`)
          for (const item of items) {
            expect(kind, item.field === field, `field ${item.field}, not ${field}`)
            expect(kind, item.reason.startsWith(`${field}: `) && item.reason.includes(reason), `reason "${item.reason}"`)
          }
        }
      }
      assert.deepStrictEqual(wrong, [])
      assert.strictEqual(rejected.length + eventRejected.length, expectedItems, "quarantined items that no bad record explains")
      table.push(
        ["malformed kinds fed to the handler", Malformed.malformed.length],
        ["  quarantined with the field and reason", Malformed.malformed.filter((k) => k.outcome._tag === "Quarantined").length],
        ["  skipped (MODIFY/REMOVE), repeats counted once, empty", Malformed.malformed.filter((k) => k.outcome._tag !== "Quarantined").length],
        ["  handler threw or answered batchItemFailures", abnormal],
        ["documented edge cases counted (not malformed)", Malformed.kinds.length - Malformed.malformed.length]
      )
    } finally {
      await Promise.all([...lanes, eventLive].map((h) => h.dispose()))
    }
  })

  it("applies a batch of every kind together once, however often it comes, with DynamoDB throttling and conflicts", async () => {
    const names = setup.mixed
    const next = Faults.random(SEED + 2)
    let injected = 0
    const faulty = DynamoLocal.handler(names, {
      faults: {
        before: (command) => {
          const kind = Faults.before(next, RATES, command)
          if (kind === undefined) return
          injected++
          throw Faults.exception(kind)
        }
      }
    })
    try {
      const batches = recordKinds.map((kind, i) => ({ kind, custId: `mix-${i}`, ...between(kind, `mix-${i}`) }))
      const event = { Records: batches.flatMap((b) => b.records) }
      const expected = new Map(batches.map(({ kind, custId }) => [custId, 300 + (kind.dollars ?? 0)]))
      const deliveries: Array<unknown> = []
      let rejectedAfterFirst = 0
      // As Lambda delivers: again from the lowest reported failure; then the whole batch once more.
      let pending = event.Records
      for (let attempt = 0; attempt < 10 && pending.length > 0; attempt++) {
        const { response } = await call(faulty, { Records: pending })
        deliveries.push(response)
        const lowest = (response as { batchItemFailures?: Array<{ itemIdentifier: string }> }).batchItemFailures?.[0]?.itemIdentifier
        pending = lowest === undefined ? [] : pending.slice(pending.findIndex((r) => (r as { dynamodb?: { SequenceNumber?: unknown } })?.dynamodb?.SequenceNumber === lowest))
        rejectedAfterFirst = (await quarantined(names)).length
      }
      deliveries.push((await call(faulty, event)).response)
      assert.deepStrictEqual(deliveries.filter((d) => typeof d === "object" && d !== null && "threw" in d), [], "the handler threw")
      assert.deepStrictEqual(deliveries.at(-1), { batchItemFailures: [] })
      const profiles = new Map((await DynamoLocal.scanTable(names.profiles)).map((p) => [String(p.CustID), Number(p.TotalTnValue)]))
      assert.deepStrictEqual(profiles, expected)
      assert.strictEqual((await quarantined(names)).length, rejectedAfterFirst, "quarantined again on redelivery")
      assert.isAbove(injected, 0)
    } finally {
      await faulty.dispose()
    }
  })
})

/** The counts a kind's batch (two good records around its `bad` ones) must log. */
const countsFor = (outcome: Malformed.Outcome, bad: number): Record<string, number> => {
  switch (outcome._tag) {
    case "Quarantined":
      return { applied: 2, quarantined: bad, skipped: 0, duplicates: 0 }
    case "Skipped":
      return { applied: 2, quarantined: 0, skipped: bad, duplicates: 0 }
    case "Repeat":
      return { applied: 3, quarantined: 0, skipped: 0, duplicates: bad - 1 }
    case "Counted":
      return { applied: 2 + bad, quarantined: 0, skipped: 0, duplicates: 0 }
    case "Nothing":
      return { applied: 0, quarantined: 0, skipped: 0, duplicates: 0 }
  }
}

describe.concurrent("reliability", () => {
  it(`counts ${SIZE.transactions.toLocaleString("en-US")} transactions of ${SIZE.customers.toLocaleString("en-US")} customers exactly once through redeliveries, faults, kills and a racing backfill`, async () => {
    const started = Date.now()
    const next = Faults.random(SEED)
    const rows = dataset(SIZE.customers, SIZE.transactions, next)
    const names = setup.pipeline
    const streamArn = (await DynamoLocal.client().send(new DescribeTableCommand({ TableName: names.transactions }))).Table?.LatestStreamArn
    if (streamArn === undefined) throw new Error("the transactions table has no stream")

    const fn = ReliabilityFunction.make({ workerFile: setup.workerFile, endpoint: DynamoLocal.endpoint(), names, seed: SEED, rates: RATES, killEvery: KILL_EVERY, hotEvery: HOT_EVERY })
    const runnerLog: Array<DynamoLocal.LogLine> = []
    const progress = Effect.runSync(RunnerProgress.make)
    const onFailureFile = join(dir, "on-failure.jsonl")
    const fiber = Effect.runFork(
      Runner.run({
        streamArn,
        settings: { ...Deployment.mappingSettings, batchSize: BATCH_SIZE, maximumRetryAttempts: 50 },
        invoke: (event: DynamoDBStreamEvent) => fn.invoke(event),
        checkpointFile: join(dir, "checkpoints.json"),
        onFailureFile,
        pollInterval: "20 millis",
        progress
      }).pipe(Effect.provide(Layer.mergeAll(
        LocalStreams.streamsLayer(),
        Logger.layer([Logger.map(Logger.formatStructured, (line) => void (line.message !== "batch delivered" && runnerLog.push(line)))])
      )))
    )
    /** Why waiting on the runner is pointless: it stopped, or it gave records up (they will never be handled). */
    const runnerStopped = () => {
      const exit = fiber.pollUnsafe()
      if (exit !== undefined) return `the runner stopped: ${JSON.stringify(exit)}`
      const givenUp = Effect.runSync(SubscriptionRef.get(progress)).onFailure
      return givenUp > 0 ? `the runner gave ${givenUp} record(s) up: ${JSON.stringify(runnerLog.filter((l) => l.level !== "INFO").slice(-5))}` : undefined
    }

    // The backfill's client carries the same faults as the handler's, but for hot keys: a call throttled
    // past its retries fails a backfill run (README: run it again), where the handler reports the records.
    const backfillFaults = Faults.emptyCounts()
    const nextBackfillFault = Faults.random(SEED + 1)
    const faultyClient = () =>
      DynamoLocal.client({
        before: (command) => {
          const kind = Faults.before(nextBackfillFault, RATES, command)
          if (kind === undefined) return
          backfillFaults[kind]++
          throw Faults.exception(kind)
        },
        after: (command) => {
          if (!Faults.lost(nextBackfillFault, RATES, command)) return
          backfillFaults["response lost after the write landed"]++
          throw Faults.exception("response lost after the write landed")
        }
      })
    /**
     * One backfill run. A customer's call still throttled after all its retries skips that customer; the
     * Scan's fails the run, as documented ("a rerun finishes the job"): it is run again then, and counted.
     */
    let backfillReruns = 0
    const backfill = async (): Promise<Backfill.Summary> => {
      for (let attempt = 1; ; attempt++) {
        const client = faultyClient()
        try {
          return await DynamoLocal.run(names, Backfill.run({ segments: 4, concurrency: 8 }), client)
        } catch (error) {
          if (attempt === 3 || !/\((Transient|Unreachable)\)/.test(String(error))) throw error
          backfillReruns++
        } finally {
          client.destroy()
        }
      }
    }
    const backfills: Array<Promise<Backfill.Summary>> = []
    const backfillAt = Array.from({ length: SIZE.backfills }, (_, i) => Math.floor((SIZE.transactions * (i + 1)) / (SIZE.backfills + 1)))

    try {
      await writeRows(names, rows, {
        canWrite: (written) => written - fn.handled.size < MAX_AHEAD,
        onWritten: async (written) => {
          while (backfills.length < backfillAt.length && written >= backfillAt[backfills.length]!) {
            backfills.push(backfill())
          }
          const reason = runnerStopped()
          if (reason !== undefined) throw new Error(reason)
        }
      })
      const summaries = await Promise.all(backfills)
      const caughtUp = () => {
        const p = Effect.runSync(SubscriptionRef.get(progress))
        const shards = Object.values(p.shards)
        return shards.length > 0 && shards.every((s) => s.caughtUp && s.pending === 0)
      }
      // Until every record was answered as handled, or the runner has nothing more to do (the checks
      // below then say what went missing).
      await waitFor(
        "the runner caught up",
        () => caughtUp() && (fn.handled.size === rows.length || fn.idleFor() > 5_000),
        FULL ? 900_000 : 120_000,
        runnerStopped
      )
      await Effect.runPromise(Fiber.interrupt(fiber))
      await fn.close()
      const last = Effect.runSync(SubscriptionRef.get(progress))
      const givenUp = await Effect.runPromise(OnFailure.list(onFailureFile))
      const found = await audit(names)
      const f = fn.figures
      const injected = Faults.KINDS.map((k) => [k, f.faults[k] + backfillFaults[k]] as const)
      const failedBatches = (outcome: string) => runnerLog.filter((l) => l.message === "batch failed" && l.annotations.outcome === outcome).length

      table.push(
        ["transactions (rows written)", found.rows],
        ["customers", SIZE.customers],
        ["runner batches (invocations, with retries and bisected halves)", f.invocations],
        ["handler deliveries", f.deliveries],
        ["redeliveries (deliveries beyond one per batch)", f.deliveries - f.invocations],
        ["batches delivered twice / three times", `${f.deliveredTwice} / ${f.deliveredThrice}`],
        ["batches with deliveries racing each other", f.racing],
        ["batches answered with batchItemFailures", f.partial],
        ["runner retries after a partial failure", failedBatches("partial failure")],
        ["runner retries after a function error", failedBatches("function error")],
        ...injected.map(([k, n]) => [`faults injected: ${k}`, n] as const),
        ["faults injected: total", injected.reduce((a, [, n]) => a + n, 0)],
        ["  of which in the backfill's calls", Faults.KINDS.reduce((a, k) => a + backfillFaults[k], 0)],
        ["conditional writes that really lost a race", f.lostRaces],
        ["hot keys (a customer throttled through every retry of a batch)", f.hotKeys],
        ["handler processes SIGKILLed mid-batch", f.kills],
        ["handler processes started", f.workers],
        ["backfill runs racing the stream", summaries.length],
        ["  run again after failing on a call throttled past its retries", backfillReruns],
        ["rows counted by the backfills", summaries.reduce((a, s) => a + s.applied, 0)],
        ["rows counted by the stream (its log lines; a killed batch logs none)", f.applied],
        ["records found counted already (stream)", f.duplicates],
        ["records answered as handled", fn.handled.size],
        ["records given up (on-failure file)", givenUp.length],
        ["Elite customers / EliteQualified events", `${found.elite} / ${found.events}`],
        ["dollars in rows", found.rowDollars],
        ["dollars in profiles", found.profileDollars],
        ["dollars lost", found.lost],
        ["dollars doubled", found.doubled],
        ["pipeline duration (s)", Math.round((Date.now() - started) / 100) / 10]
      )

      assert.deepStrictEqual(found.problems.slice(0, 20), [], `${found.problems.length} problem(s)`)
      assert.strictEqual(fn.handled.size, rows.length, "records the runner never had answered as handled")
      assert.deepStrictEqual([found.rows, found.lost, found.doubled, found.profileDollars], [rows.length, 0, 0, found.rowDollars])
      assert.deepStrictEqual([last.onFailure, givenUp.length], [0, 0], "nothing given up")
      assert.isTrue(Object.values(last.shards).every((s) => s.caughtUp && s.pending === 0), "every shard caught up")
      // Skipped only for a race or throttling that outlasted the retries; the stream counts those rows.
      const retryable = (reason: string) => reason.includes("kept changing") || reason.includes("(Transient)")
      assert.deepStrictEqual(summaries.map((s) => s.skipped.filter((x) => !retryable(x.reason))), summaries.map(() => []))
      // The faults really happened.
      assert.isAtLeast(f.kills, 1, "no handler process was killed")
      assert.strictEqual(f.thrown, 0, "the handler threw")
      assert.strictEqual(f.deliveredTwice + f.deliveredThrice + f.killedInvocations, f.invocations)
      assert.isAbove(f.deliveredTwice, 0)
      assert.isAbove(f.deliveredThrice, 0)
      // Promotions, the only transactions, are few at the small size: every kind is asked for at full size.
      if (FULL) for (const [kind, n] of injected) assert.isAbove(n, 0, `no ${kind}`)
      assert.isAbove(injected.reduce((a, [, n]) => a + n, 0), 0)
      assert.isAbove(failedBatches("partial failure"), 0, "no batch was answered with batchItemFailures")
      assert.isAbove(summaries.reduce((a, s) => a + s.applied, 0), 0, "the backfill counted nothing: it did not race the stream")
      assert.isAbove(f.applied, 0)
    } finally {
      await Effect.runPromise(Fiber.interrupt(fiber))
      await fn.close()
    }
  }, FULL ? 1_200_000 : 180_000)
})
