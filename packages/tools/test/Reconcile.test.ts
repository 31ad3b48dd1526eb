/**
 * Reconcile on DynamoDB Local, beside the local runner delivering the stream to the real handler in
 * this process: no drift once the stream has counted every row; drift injected by hand (as a person
 * editing the table would: no ProfileVersion bump) found exactly, with its stored and computed sides;
 * `repair` setting it right while a writer keeps inserting rows for the same customers and each
 * repair's write is made to race an increment the stream applies; one customer alone; rows and
 * profiles that cannot be read.
 */
import {
  type AttributeValue,
  DeleteItemCommand,
  DescribeTableCommand,
  ScanCommand,
  UpdateItemCommand
} from "@aws-sdk/client-dynamodb"
import type * as Drift from "@dyna/core/Drift"
import * as Elite from "@dyna/core/Elite"
import type { CustomerId } from "@dyna/core/Transaction"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import * as Deployment from "@dyna/aws/Deployment"
import * as Runner from "../src/local/Runner.js"
import * as Reconcile from "../src/ops/Reconcile.js"
import * as DynamoLocal from "../../aws/test/support/DynamoLocal.js"
import * as LocalStreams from "./support/LocalStreams.js"

const dir = mkdtempSync(join(tmpdir(), "reconcile-test-"))
const db = DynamoLocal.client()
let names: DynamoLocal.TableNames
let stopRunner: () => Promise<void> = async () => {}


beforeAll(async () => {
  names = await DynamoLocal.freshTables()
  const streamArn = (await db.send(new DescribeTableCommand({ TableName: names.transactions }))).Table?.LatestStreamArn
  if (streamArn === undefined) throw new Error("the transactions table has no stream")
  // The runner with the real handler, for the whole file: the stream keeps applying what is written.
  const live = DynamoLocal.handler(names)
  const fiber = Effect.runFork(
    Runner.run({
      streamArn,
      settings: Deployment.mappingSettings,
      invoke: (event) => live.handler(event),
      checkpointFile: join(dir, "checkpoints.json"),
      onFailureFile: join(dir, "on-failure.jsonl"),
      pollInterval: "20 millis"
    }).pipe(Effect.provide(Layer.mergeAll(LocalStreams.streamsLayer(), Logger.layer([]))))
  )
  stopRunner = async () => {
    await Effect.runPromise(Fiber.interrupt(fiber))
    await live.dispose()
  }
})

afterAll(async () => {
  await stopRunner()
  db.destroy()
  rmSync(dir, { recursive: true, force: true })
})

const CUSTOMERS = 50
const customer = (c: number) => `rc-${String(c).padStart(2, "0")}`

interface Row {
  readonly custId: string
  readonly tnNum: number
  readonly tnValue: number
}

/** Writes rows straight into CustTransactions, as a shop front-end would, 25 per request. */
const writeRows = async (rows: ReadonlyArray<Row>) => {
  for (let i = 0; i < rows.length; i += 25) await DynamoLocal.putRows(db, names.transactions, rows.slice(i, i + 25))
}

const scanAll = async (table: string) => {
  const items: Array<Record<string, AttributeValue>> = []
  let start: Record<string, AttributeValue> | undefined
  do {
    const out = await db.send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }))
    items.push(...(out.Items ?? []))
    start = out.LastEvaluatedKey
  } while (start !== undefined)
  return items
}

/** Each customer's sum of rows, read here without the code under test. */
const sumsOfRows = async () => {
  const sums = new Map<string, number>()
  for (const item of await scanAll(names.transactions)) {
    const custId = item.CustID?.S ?? ""
    sums.set(custId, (sums.get(custId) ?? 0) + Number(item.TnValue?.N))
  }
  return sums
}

/** What is wrong with the profiles, by this test's own reading: each total the sum of its rows, each status the rule's. */
const wrongProfiles = async (ignore: ReadonlySet<string> = new Set()) => {
  const sums = await sumsOfRows()
  const profiles = new Map((await scanAll(names.profiles)).map((p) => [p.CustID?.S ?? "", p]))
  const out: Array<string> = []
  for (const custId of new Set([...sums.keys(), ...profiles.keys()])) {
    if (ignore.has(custId)) continue
    const sum = sums.get(custId) ?? 0
    const p = profiles.get(custId)
    const stored = `${p?.TotalTnValue?.N ?? "-"} ${p?.CustStatus?.S ?? "-"}`
    if (stored !== `${sum} ${Elite.statusFor(sum)}` && !(p === undefined && !sums.has(custId))) out.push(`${custId}: stored ${stored}, rows ${sum}`)
  }
  return out.sort()
}

/** Polls until the stream has counted every row (nothing is wrong), or returns what is still wrong after 20 s. */
const caughtUp = async (ignore?: ReadonlySet<string>) => {
  const deadline = Date.now() + 20_000
  let wrong = await wrongProfiles(ignore)
  while (wrong.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    wrong = await wrongProfiles(ignore)
  }
  return wrong
}

const reconcile = (options: Reconcile.Options = {}, sdk?: Parameters<typeof DynamoLocal.run>[2]) =>
  DynamoLocal.run(names, Reconcile.run({ settle: "300 millis", segments: 3, ...options }), sdk)

/** Sets attributes of a profile as a person editing the table would: no ProfileVersion bump, no condition. */
const editProfile = (custId: string, values: { readonly total?: number; readonly status?: string }) => {
  const sets = [
    ...(values.total === undefined ? [] : ["TotalTnValue = :t"]),
    ...(values.status === undefined ? [] : ["CustStatus = :s"])
  ]
  return db.send(new UpdateItemCommand({
    TableName: names.profiles,
    Key: { CustID: { S: custId } },
    UpdateExpression: `SET ${sets.join(", ")}`,
    ExpressionAttributeValues: {
      ...(values.total === undefined ? {} : { ":t": { N: String(values.total) } }),
      ...(values.status === undefined ? {} : { ":s": { S: values.status } })
    }
  }))
}

/** The CustID of a profile write's key (UpdateItem, or a promotion's TransactWriteItems). */
const writtenCustId = (input: Record<string, unknown>): string | undefined => {
  const update = (input["TransactItems"] as ReadonlyArray<{ readonly Update?: Record<string, unknown> }> | undefined)?.[0]?.Update ?? input
  return (update["Key"] as { readonly CustID?: { readonly S?: string } } | undefined)?.CustID?.S
}

/**
 * A client for the repair that makes each customer's first repair write race the stream: just before
 * it is sent (after the recount read the profile and rows), a new row for that customer is written and
 * the stream applies it, moving the profile's version. A blind write would now lose that increment.
 */
const racingClient = () => {
  const raced = new Set<string>()
  let lost = 0
  const client = DynamoLocal.client({
    failed: (_, error) => void (error instanceof Error && /ConditionalCheckFailed|TransactionCanceled/.test(error.name) && lost++)
  })
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const custId = writtenCustId(args.input as Record<string, unknown>)
      const write = context.commandName === "UpdateItemCommand" || context.commandName === "TransactWriteItemsCommand"
      if (write && custId !== undefined && !raced.has(custId)) {
        raced.add(custId)
        const version = (await DynamoLocal.profileRow(names, custId))?.ProfileVersion
        await writeRows([{ custId, tnNum: 9000, tnValue: 5 }])
        const deadline = Date.now() + 10_000
        while ((await DynamoLocal.profileRow(names, custId))?.ProfileVersion === version && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
      }
      return next(args)
    },
    { step: "initialize", name: "raceTheStream" }
  )
  return { client, raced, lost: () => lost }
}

const mismatch = (custId: string, stored: Drift.Stored | undefined, computed: number | undefined, kinds: Array<Drift.Kind>): Drift.Mismatch => ({
  _tag: "Mismatch",
  custId,
  stored,
  computed,
  kinds
})

/** The customers the drift is injected into, chosen by their true totals; set by the second test. */
const drifted = { wrongTotal: "", crossing: "", wrongStatus: "", deleted: "", ghost: "rc-ghost" }

describe("Reconcile on DynamoDB Local, beside the stream", () => {
  it("finds no drift once the stream has counted every row", async () => {
    // 10 rows each, from about $20 a row to about $190 by customer: totals from $193 to $1,875, half Elite.
    const rows = Array.from({ length: CUSTOMERS * 10 }, (_, i): Row => {
      const c = i % CUSTOMERS
      const j = Math.floor(i / CUSTOMERS)
      return { custId: customer(c), tnNum: j + 1, tnValue: 10 + ((c * 29) % 170) + ((j * 17 + c * 5) % 21) }
    })
    await writeRows(rows)
    assert.deepStrictEqual(await caughtUp(), [])

    let scanned = 0
    const summary = await reconcile({ onScanned: (n) => Effect.sync(() => void (scanned += n)) })

    assert.deepInclude(summary, { customers: CUSTOMERS, rows: 500, profiles: CUSTOMERS, candidates: 0, findings: [] })
    assert.strictEqual(scanned, 550, "every scanned row and profile reaches the progress bar")
  })

  it("finds drift injected by hand, exactly those customers, with their stored and computed sides", async () => {
    const sums = await sumsOfRows()
    const byTotal = [...sums].sort((a, b) => a[1] - b[1])
    const normal = byTotal.filter(([, t]) => t < 900).map(([c]) => c)
    const elite = byTotal.filter(([, t]) => t >= 1050).map(([c]) => c)
    assert.isAtLeast(normal.length, 3)
    assert.isAtLeast(elite.length, 1)
    drifted.wrongTotal = normal[0] ?? ""
    drifted.wrongStatus = normal[1] ?? ""
    drifted.deleted = normal[2] ?? ""
    drifted.crossing = elite[0] ?? ""
    const sum = (custId: string) => sums.get(custId) ?? Number.NaN

    await editProfile(drifted.wrongTotal, { total: sum(drifted.wrongTotal) + 100 })
    await editProfile(drifted.crossing, { total: 950, status: "Normal" })
    await editProfile(drifted.wrongStatus, { status: "Elite" })
    await db.send(new DeleteItemCommand({ TableName: names.profiles, Key: { CustID: { S: drifted.deleted } } }))
    await DynamoLocal.putItem(names.profiles, { CustID: { S: drifted.ghost }, TotalTnValue: { N: "300" }, CustStatus: { S: "Normal" } })

    const summary = await reconcile()

    const expected = [
      mismatch(drifted.wrongTotal, { totalTnValue: sum(drifted.wrongTotal) + 100, custStatus: "Normal" }, sum(drifted.wrongTotal), ["total"]),
      mismatch(drifted.crossing, { totalTnValue: 950, custStatus: "Normal" }, sum(drifted.crossing), ["total", "status"]),
      mismatch(drifted.wrongStatus, { totalTnValue: sum(drifted.wrongStatus), custStatus: "Elite" }, sum(drifted.wrongStatus), ["status"]),
      mismatch(drifted.deleted, undefined, sum(drifted.deleted), ["missing profile"]),
      mismatch(drifted.ghost, { totalTnValue: 300, custStatus: "Normal" }, undefined, ["no rows"])
    ].sort((a, b) => (a.custId < b.custId ? -1 : 1))
    assert.deepStrictEqual(summary.findings, expected.map((difference) => ({ difference, repair: undefined })))
    assert.deepInclude(summary, { customers: CUSTOMERS + 1, rows: 500, profiles: CUSTOMERS, candidates: 5 })
    // Without repair, nothing is written.
    assert.deepInclude(await DynamoLocal.profileRow(names, drifted.crossing), { TotalTnValue: 950, CustStatus: "Normal" })
    assert.strictEqual((await wrongProfiles()).length, 5)
  })

  it("repairs every drifted profile while a writer keeps inserting rows for the same customers, and the stream applies them", async () => {
    // Every customer but the one whose status was edited: the stream's next write would set that status right by itself.
    const written = [...Array.from({ length: CUSTOMERS }, (_, c) => customer(c)), drifted.ghost].filter((c) => c !== drifted.wrongStatus)
    let writing = true
    let round = 0
    let rowsWritten = 0
    const writer = (async () => {
      // On until the repair is done, and at least one row for each customer: 10 rows every 50 ms, customer
      // after customer, under 200 a second, which the runner keeps up with (a stream that falls further
      // behind than the settle time is drift by definition; see Drift.isDrift).
      while (writing || round < written.length) {
        const batch = Array.from({ length: 10 }, (_, k): Row => {
          const n = round + k
          return { custId: written[n % written.length] ?? "", tnNum: 1000 + n, tnValue: 1 + ((n * 7) % 40) }
        })
        round += batch.length
        await writeRows(batch)
        rowsWritten += batch.length
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    })()
    // Let the writes get going first, so the scans and the repairs meet them.
    await new Promise((resolve) => setTimeout(resolve, 150))
    const writtenBefore = rowsWritten

    const racing = racingClient()
    // A settle time well above the runner's lag here, even on a busy machine.
    const summary = await reconcile({ repair: true, settle: "1 second" }, racing.client).finally(() => (writing = false))
    const writtenDuring = rowsWritten - writtenBefore
    await writer

    assert.deepStrictEqual(
      summary.findings.map((f) => [f.difference.custId, f.repair]),
      [drifted.wrongTotal, drifted.crossing, drifted.wrongStatus, drifted.deleted, drifted.ghost].sort()
        .map((c): [string, Reconcile.Repair] => [c, { _tag: "Repaired" }])
    )
    assert.isAtLeast(writtenDuring, written.length, "rows kept arriving while the repair ran")
    // Each repair's first write met an increment the stream had just applied, lost, and read again.
    assert.strictEqual(racing.raced.size, 5)
    assert.isAtLeast(racing.lost(), 5)
    // Once the writer stops and the runner catches up, every profile is the sum of its rows, status by the rule.
    assert.deepStrictEqual(await caughtUp(), [])
    assert.deepInclude(await DynamoLocal.profileRow(names, drifted.deleted), { CustStatus: Elite.statusFor((await sumsOfRows()).get(drifted.deleted) ?? 0) })

    const after = await reconcile()
    assert.deepStrictEqual(after.findings, [])
    assert.strictEqual(after.rows, 500 + rowsWritten + racing.raced.size)
  }, 45_000)

  it("checks and repairs one customer alone, without scanning", async () => {
    const custId = customer(7) as CustomerId
    const sum = (await sumsOfRows()).get(custId) ?? Number.NaN
    const clean = await reconcile({ customer: custId })
    assert.deepStrictEqual(clean, { ...clean, customers: 1, profiles: 1, candidates: 0, findings: [] })
    assert.isAtLeast(clean.rows, 10)

    await editProfile(custId, { total: sum + 7 })
    const found = await reconcile({ customer: custId })
    assert.deepStrictEqual(found.findings, [{
      difference: mismatch(custId, { totalTnValue: sum + 7, custStatus: Elite.statusFor(sum) }, sum, ["total"]),
      repair: undefined
    }])

    const fixed = await reconcile({ customer: custId, repair: true })
    assert.deepStrictEqual(fixed.findings.map((f) => f.repair), [{ _tag: "Repaired" }])
    assert.deepInclude(await DynamoLocal.profileRow(names, custId), { TotalTnValue: sum, CustStatus: Elite.statusFor(sum) })
    assert.deepStrictEqual((await reconcile({ customer: custId })).findings, [])

    const nobody = await reconcile({ customer: "rc-nobody" as CustomerId })
    assert.deepInclude(nobody, { customers: 1, rows: 0, profiles: 0, candidates: 0, findings: [] })
  })

  it("names a row or a profile that cannot be read, never repairs it, and checks everyone else", async () => {
    // Written straight, past the checks a shop front-end's row goes through; the stream quarantines it.
    await DynamoLocal.putItem(names.transactions, { CustID: { S: "rc-float" }, TnNum: { N: "1" }, TnValue: { N: "12.5" } })
    await DynamoLocal.putItem(names.profiles, { CustID: { S: "rc-lots" }, TotalTnValue: { S: "lots" } })

    const summary = await reconcile({ repair: true })

    assert.deepStrictEqual(summary.findings.map((f) => f.difference._tag), ["Unreadable", "Unreadable"])
    const [float, lots] = summary.findings
    assert.strictEqual(float?.difference.custId, "rc-float")
    assert.match(
      float?.difference._tag === "Unreadable" ? float.difference.reason : "",
      /^CustTransactions row rc-float\/1 cannot be counted: TnValue\.N must be a whole number of dollars/
    )
    assert.strictEqual(lots?.difference.custId, "rc-lots")
    assert.match(lots?.difference._tag === "Unreadable" ? lots.difference.reason : "", /^CustProfile item rc-lots is unreadable: TotalTnValue/)
    for (const f of summary.findings) assert.strictEqual(f.repair?._tag, "NotRepaired")
    assert.strictEqual(Reconcile.remaining(summary), 2)
    assert.deepStrictEqual(await wrongProfiles(new Set(["rc-float", "rc-lots"])), [])
  })
})
