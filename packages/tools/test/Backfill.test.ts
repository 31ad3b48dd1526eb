/**
 * Backfill on DynamoDB Local: rows written before the stream existed are counted once, beside the
 * local runner delivering the rows written after, across reruns and a run that dies half way; a
 * customer who cannot be counted is named and skipped while the others are counted.
 */
import { type DynamoDBClient, ProvisionedThroughputExceededException } from "@aws-sdk/client-dynamodb"
import * as Elite from "@dyna/core/Elite"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "vitest"
import * as Deployment from "@dyna/aws/Deployment"
import * as Runner from "../src/local/Runner.js"
import * as Backfill from "../src/ops/Backfill.js"
import { ensureStream, ensureTable, eventsTable, profilesTable, rejectedTable, transactionsTable } from "../src/provision/TableSteps.js"
import * as DynamoLocal from "../../aws/test/support/DynamoLocal.js"
import * as LocalStreams from "./support/LocalStreams.js"

const dir = mkdtempSync(join(tmpdir(), "backfill-test-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Fresh tables whose CustTransactions has no stream yet: rows written now are never delivered. */
const tablesWithoutStream = async (): Promise<DynamoLocal.TableNames> => {
  const id = randomUUID().slice(0, 8)
  const names = { transactions: `tx-${id}`, profiles: `profile-${id}`, rejected: `rejected-${id}`, events: `events-${id}` }
  await DynamoLocal.run(names, Effect.gen(function*() {
    yield* ensureTable(transactionsTable(names.transactions))
    yield* ensureTable(profilesTable(names.profiles))
    yield* ensureTable(rejectedTable(names.rejected))
    yield* ensureTable(eventsTable(names.events))
  }))
  return names
}

/** Turns the CustTransactions stream on, as provisioning an existing table does; its ARN. */
const enableStream = async (names: DynamoLocal.TableNames) => {
  const outcome = await DynamoLocal.run(names, ensureStream(names.transactions))
  assert.strictEqual(outcome.action, "created")
  return outcome.resource
}

interface Row {
  readonly custId: string
  readonly tnNum: number
  readonly tnValue: number
}

/** Writes rows straight into CustTransactions, 25 per BatchWriteItem, `inFlight` requests at a time. */
const writeRows = async (names: DynamoLocal.TableNames, rows: ReadonlyArray<Row>, inFlight = 2) => {
  const db = DynamoLocal.client()
  const chunks: Array<ReadonlyArray<Row>> = []
  for (let i = 0; i < rows.length; i += 25) chunks.push(rows.slice(i, i + 25))
  let next = 0
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < chunks.length) await DynamoLocal.putRows(db, names.transactions, chunks[next++] ?? [])
  }))
  db.destroy()
}

const customer = (c: number) => `bf-${String(c).padStart(3, "0")}`

/**
 * `n` amounts for customer `c`: every tenth customer ends at exactly $1,000, the next at $999, the
 * rest at varied amounts that take about half of the 10-row customers and most 20-row ones past $1,000.
 */
const amounts = (c: number, n: number): Array<number> => {
  const exact = c % 10 === 0 ? 1000 : c % 10 === 1 ? 999 : undefined
  if (exact === undefined) return Array.from({ length: n }, (_, j) => 1 + ((c * 31 + j * 17) % 180))
  const base = Math.floor(exact / n)
  const values = Array.from({ length: n - 1 }, (_, j) => base + ((j % 3) - 1) * Math.min(base - 1, 7))
  return [...values, exact - values.reduce((a, b) => a + b, 0)]
}

/**
 * 2,000 rows for customers 0–199 (10 each) to write before the stream, and 2,000 after: 10 more each
 * for customers 100–199 and 10 each for the new customers 200–299. Written slot by slot, so each
 * request mixes customers.
 */
const dataset = () => {
  const before: Array<Row> = []
  const after: Array<Row> = []
  for (let c = 0; c < 300; c++) {
    const early = c < 200 ? 10 : 0
    const late = c >= 100 ? 10 : 0
    amounts(c, early + late).forEach((tnValue, j) => (j < early ? before : after).push({ custId: customer(c), tnNum: c * 100 + j + 1, tnValue }))
  }
  const slotOrder = (a: Row, b: Row) => a.tnNum % 100 - b.tnNum % 100 || a.tnNum - b.tnNum
  return { before: before.sort(slotOrder), after: after.sort(slotOrder) }
}

const sums = (rows: ReadonlyArray<Row>) => {
  const out = new Map<string, number>()
  for (const r of rows) out.set(r.custId, (out.get(r.custId) ?? 0) + r.tnValue)
  return out
}



/**
 * What is wrong with the profiles and events, given each customer's sum of rows: nothing when every
 * total is that sum, the status follows the rule, EliteSince is there exactly for the Elite, and each
 * Elite customer has one EliteQualified event (at EliteSince) and no one else has any.
 */
const differences = async (names: DynamoLocal.TableNames, expected: ReadonlyMap<string, number>) => {
  const profiles = new Map((await DynamoLocal.scanTable(names.profiles)).map((p) => [String(p.CustID), p]))
  const events = await DynamoLocal.scanTable(names.events)
  const out: Array<string> = []
  for (const [custId, total] of expected) {
    const p = profiles.get(custId)
    const status = Elite.statusFor(total)
    if (p?.TotalTnValue !== total || p.CustStatus !== status) {
      out.push(`${custId}: rows ${total}, profile ${String(p?.TotalTnValue)}/${String(p?.CustStatus)}`)
      continue
    }
    if ((p.EliteSince !== undefined) !== (status === "Elite")) out.push(`${custId}: ${status} with EliteSince ${String(p.EliteSince)}`)
    const mine = events.filter((e) => e.CustID === custId)
    if (mine.length !== (status === "Elite" ? 1 : 0)) out.push(`${custId}: ${status} at ${total} with ${mine.length} EliteQualified event(s)`)
    for (const e of mine) {
      if (e.QualifiedAt !== p.EliteSince || Number(e.TotalTnValue) < 1000) {
        out.push(`${custId}: event at ${String(e.QualifiedAt)} with ${String(e.TotalTnValue)}, EliteSince ${String(p.EliteSince)}`)
      }
    }
  }
  for (const custId of profiles.keys()) if (!expected.has(custId)) out.push(`${custId}: a profile without rows`)
  for (const e of events) if (!expected.has(String(e.CustID))) out.push(`${String(e.CustID)}: an event without rows`)
  return out
}

/** Polls until {@link differences} finds nothing (the runner has caught up), or returns the last ones. */
const settled = async (names: DynamoLocal.TableNames, expected: ReadonlyMap<string, number>, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs
  let last = await differences(names, expected)
  while (last.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    last = await differences(names, expected)
  }
  return last
}

const backfill = (names: DynamoLocal.TableNames, options: Backfill.Options = {}, sdk?: DynamoDBClient) =>
  DynamoLocal.run(names, Backfill.run({ segments: 4, concurrency: 16, ...options }), sdk)


/** The local runner with the real handler, in this process, until `stop`; the handler's logs tell what it counted. */
const startRunner = (names: DynamoLocal.TableNames, streamArn: string) => {
  const live = DynamoLocal.handler(names)
  /** Rows the stream's handler counted (not those it found counted already). */
  const applied = () => live.summaries().reduce((n, s) => n + Number(s.applied), 0)
  const fiber = Effect.runFork(
    Runner.run({
      streamArn,
      settings: Deployment.mappingSettings,
      invoke: (event) => live.handler(event),
      checkpointFile: join(dir, `checkpoints-${randomUUID()}.json`),
      onFailureFile: join(dir, `on-failure-${randomUUID()}.jsonl`),
      pollInterval: "20 millis"
    }).pipe(Effect.provide(Layer.mergeAll(LocalStreams.streamsLayer(), Logger.layer([]))))
  )
  return {
    /**
     * The rows the handler counted, once it reports `n` or after 5 s: an invocation logs its counts just
     * after its writes, so the profiles can be exact a moment before the log says so.
     */
    appliedReaching: async (n: number) => {
      const deadline = Date.now() + 5_000
      while (applied() < n && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
      return applied()
    },
    /** The runner's own end, if it stopped by itself (it never should). */
    stopped: () => fiber.pollUnsafe(),
    stop: async () => {
      await Effect.runPromise(Fiber.interrupt(fiber))
      await live.dispose()
    }
  }
}

describe("Backfill on DynamoDB Local", () => {
  it("counts 2,000 rows from before the stream and 2,000 after exactly once, beside the runner and again", async () => {
    const names = await tablesWithoutStream()
    const { before, after } = dataset()
    const expected = sums([...before, ...after])
    const elite = [...expected.values()].filter((t) => t >= 1000).length
    // The data covers the boundary: exactly $1,000, $999, and a good share above.
    assert.isAtLeast([...expected.values()].filter((t) => t === 1000).length, 20)
    assert.isAtLeast([...expected.values()].filter((t) => t === 999).length, 20)
    assert.isAtLeast(elite, 100)
    assert.isAtMost(elite, 250)

    await writeRows(names, before, 4)
    const runner = startRunner(names, await enableStream(names))
    try {
      const [, first] = await Promise.all([writeRows(names, after, 2), backfill(names)])
      // Right away, while the runner may still be delivering the last rows: whichever counts a row first, once.
      const second = await backfill(names)

      const left = await settled(names, expected)
      assert.deepStrictEqual(left, [], `runner stopped with ${JSON.stringify(runner.stopped())}`)
      // Every row counted once, by the first backfill, the second or the stream, and by no two of them.
      const leftToStream = 4000 - first.applied - second.applied
      assert.strictEqual(await runner.appliedReaching(leftToStream), leftToStream)
      assert.isAtLeast(first.applied, 2000, "the rows from before the stream are the backfill's alone")
      assert.isAtLeast(first.scanned, 2000)
      assert.isAtLeast(first.customers, 200)
      assert.deepStrictEqual([first.skipped, second.skipped, first.overflowing], [[], [], 0])
      assert.isAtMost(first.promotions + second.promotions, elite)
      assert.deepStrictEqual([second.scanned, second.customers], [4000, 300])

      // Caught up: a third run finds every row counted and writes nothing.
      let reported = 0
      const third = await backfill(names, { segments: 3, concurrency: 5, onRows: (n) => Effect.sync(() => void (reported += n)) })
      assert.strictEqual(reported, 4000, "onRows adds up to the rows scanned")
      assert.deepInclude(third, { scanned: 4000, customers: 300, applied: 0, duplicates: 4000, changed: 0, promotions: 0, skipped: [] })
      assert.deepStrictEqual(await differences(names, expected), [])
      assert.strictEqual((await DynamoLocal.eliteEvents(names)).length, elite)
    } finally {
      await runner.stop()
    }
  }, 90_000)

  it("finishes exactly when run again after being stopped half way, or dying after a write landed unheard of", async () => {
    const names = await tablesWithoutStream()
    const rows = dataset().before.filter((r) => Number(r.custId.slice(3)) < 100)
    const expected = sums(rows)
    await writeRows(names, rows, 4)
    const isWrite = (command: string) => command === "UpdateItemCommand" || command === "TransactWriteItemsCommand"

    // Stopped (interrupted, as Ctrl-C would) once 30 profile writes have landed, others in flight.
    let writes = 0
    let halfway = () => {}
    const reached = new Promise<void>((resolve) => (halfway = resolve))
    const watched = DynamoLocal.client({ after: (command) => void (isWrite(command) && ++writes === 30 && halfway()) })
    const fiber = Effect.runFork(
      Backfill.run({ segments: 4, concurrency: 16 }).pipe(
        Effect.provide(DynamoLocal.servicesLayer(names, watched))
      )
    )
    await reached
    await Effect.runPromise(Fiber.interrupt(fiber))
    assert.isTrue(Exit.hasInterrupts(await Effect.runPromise(Fiber.await(fiber))))
    assert.isAtLeast((await DynamoLocal.scanTable(names.profiles)).length, 30)

    // Dies after its 20th profile write reached the table, before hearing back.
    let crashWrites = 0
    const crashing = DynamoLocal.client({
      after: (command) => {
        if (isWrite(command) && ++crashWrites === 20) throw new Error("simulated crash")
      }
    })
    const died = await backfill(names, {}, crashing).then(() => undefined, (e: unknown) => e)
    assert.match((died as Error).message, /simulated crash/)
    const written = (await DynamoLocal.scanTable(names.profiles)).length
    assert.isAtLeast(written, 50)
    assert.isBelow(written, 100)

    const rerun = await backfill(names)
    assert.deepStrictEqual(await differences(names, expected), [])
    assert.strictEqual(rerun.scanned, 1000)
    // What the earlier runs wrote is found counted, at least 50 customers' 10 rows; the rest is counted now.
    assert.isAtLeast(rerun.duplicates, 500)
    assert.strictEqual(rerun.applied + rerun.duplicates, 1000)
    assert.isAbove(rerun.changed, 0)
    assert.isAtMost(rerun.changed, 50)
    const again = await backfill(names)
    assert.deepInclude(again, { applied: 0, duplicates: 1000, changed: 0, promotions: 0 })
  })

  it("skips and names a customer whose row or profile cannot be read, and counts the others", async () => {
    const names = await tablesWithoutStream()
    const rows = Array.from({ length: 60 }, (_, i): Row => ({ custId: `ok-${i % 12}`, tnNum: i + 1, tnValue: 40 + i }))
    await writeRows(names, [...rows, { custId: "float", tnNum: 1, tnValue: 5 }, { custId: "text", tnNum: 1, tnValue: 5 }])
    // Written straight, past the checks a shop front-end's row goes through.
    await DynamoLocal.putItem(names.transactions, { CustID: { S: "float" }, TnNum: { N: "2" }, TnValue: { N: "12.5" } })
    await DynamoLocal.putItem(names.transactions, { CustID: { S: "text" }, TnNum: { N: "7" }, TnValue: { S: "ten" } })
    await writeRows(names, [{ custId: "bad-profile", tnNum: 1, tnValue: 5 }])
    await DynamoLocal.putItem(names.profiles, { CustID: { S: "bad-profile" }, TotalTnValue: { S: "lots" } })

    let reported = 0
    const summary = await backfill(names, { segments: 2, onRows: (n) => Effect.sync(() => void (reported += n)) })
    assert.strictEqual(reported, 65, "the skipped customers' rows are done too")

    assert.deepStrictEqual(summary.skipped.map((s) => s.custId), ["bad-profile", "float", "text"])
    const [profile, float, text] = summary.skipped.map((s) => s.reason)
    assert.match(profile ?? "", /^CustProfile item bad-profile is unreadable: TotalTnValue/)
    assert.match(float ?? "", /^CustTransactions row float\/2 cannot be counted: TnValue\.N must be a whole number of dollars/)
    assert.match(text ?? "", /^CustTransactions row text\/7 cannot be counted: TnValue\.N /)
    assert.deepInclude(summary, { scanned: 65, customers: 15, applied: 60, duplicates: 0, changed: 12 })
    assert.deepStrictEqual(await differences(names, sums(rows)), [
      "bad-profile: a profile without rows"
    ])
    assert.isUndefined(await DynamoLocal.profileRow(names, "float"))
    assert.isUndefined(await DynamoLocal.profileRow(names, "text"))
  })

  it("skips and names a customer still throttled after its retries, counts the others, and a rerun counts it", async () => {
    const names = await tablesWithoutStream()
    const rows = Array.from({ length: 40 }, (_, i): Row => ({ custId: `c-${i % 8}`, tnNum: i + 1, tnValue: 30 + i }))
    await writeRows(names, rows)
    // A hot customer: every call about it is throttled, as DynamoDB does past a partition's capacity.
    const hot = DynamoLocal.client({
      before: (command, input) => {
        const key = (input.Key ?? undefined) as { CustID?: { S?: string } } | undefined
        const values = JSON.stringify(input.ExpressionAttributeValues ?? {})
        if (key?.CustID?.S === "c-3" || values.includes('"c-3"') || command === "BatchGetItemCommand") {
          throw new ProvisionedThroughputExceededException({ message: "Throughput exceeds the current capacity", $metadata: {} })
        }
      }
    })
    const summary = await backfill(names, {}, hot)
    hot.destroy()
    assert.deepStrictEqual(summary.skipped.map((s) => s.custId), ["c-3"])
    assert.match(summary.skipped[0]?.reason ?? "", /\(Transient\).*run backfill again$/)
    assert.deepInclude(summary, { scanned: 40, customers: 8, applied: 35 })
    assert.deepInclude(await backfill(names), { applied: 5, duplicates: 35 })
    assert.deepStrictEqual(await differences(names, sums(rows)), [])
  })
})
