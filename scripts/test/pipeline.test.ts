/**
 * Task 2 end to end on the local target, as a user runs it: `pnpm provision` brings up DynamoDB Local,
 * the tables, the bundled function and the runner; rows written straight into CustTransactions reach
 * every profile exactly once, also across a runner killed mid-stream; `pnpm teardown` leaves nothing
 * running.
 */
import { type AttributeValue, BatchWriteItemCommand, ScanCommand, type WriteRequest } from "@aws-sdk/client-dynamodb"
import { alive } from "@dyna/tools/local/Background"
import { isListening } from "@dyna/tools/local/DynamoDbLocal"
import * as Elite from "@dyna/core/Elite"
import * as Effect from "effect/Effect"
import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "vitest"
import * as Commands from "./support/Commands.js"

const local = Commands.useLocalHome("dyna-pipeline-")

const pnpm = (...args: ReadonlyArray<string>) => Commands.pnpmSync(local.env, ...args)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Writes `count` purchases spread over `customers` customers (ids from `firstTnNum`), 25 per request. */
const writeRows = async (prefix: string, customers: number, count: number, firstTnNum: number) => {
  const rows = Array.from({ length: count }, (_, i) => ({
    custId: `${prefix}-${i % customers}`,
    tnNum: firstTnNum + i,
    // Varied amounts, so a lost or doubled row shows in the sum.
    tnValue: 1 + ((i * 37) % 97)
  }))
  for (let i = 0; i < rows.length; i += 25) {
    const chunk = rows.slice(i, i + 25)
    let pending: Record<string, Array<WriteRequest>> = {
      CustTransactions: chunk.map((r) => ({
        PutRequest: { Item: { CustID: { S: r.custId }, TnNum: { N: String(r.tnNum) }, TnValue: { N: String(r.tnValue) } } }
      }))
    }
    while ((pending.CustTransactions?.length ?? 0) > 0) {
      const out = await local.db.send(new BatchWriteItemCommand({ RequestItems: pending }))
      pending = { CustTransactions: out.UnprocessedItems?.CustTransactions ?? [] }
    }
  }
  return rows
}

const scanAll = async (table: string) => {
  const items: Array<Record<string, AttributeValue>> = []
  let start: Record<string, AttributeValue> | undefined
  do {
    const out = await local.db.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }))
    items.push(...(out.Items ?? []))
    start = out.LastEvaluatedKey
  } while (start !== undefined)
  return items
}

/** Each customer's sum as computed from the rows in CustTransactions: the source of truth. */
const sumsFromRows = async (prefix: string) => {
  const sums = new Map<string, number>()
  for (const item of await scanAll("CustTransactions")) {
    const custId = item.CustID?.S ?? ""
    if (custId.startsWith(`${prefix}-`)) sums.set(custId, (sums.get(custId) ?? 0) + Number(item.TnValue?.N))
  }
  return sums
}

const profiles = async (prefix: string) =>
  new Map(
    (await scanAll("CustProfile"))
      .filter((item) => item.CustID?.S?.startsWith(`${prefix}-`) === true)
      .map((item) => [item.CustID?.S ?? "", { total: Number(item.TotalTnValue?.N), status: item.CustStatus?.S }])
  )

/** Waits until every customer's profile matches the rows, or returns the differences after `timeoutMs`. */
const caughtUp = async (prefix: string, timeoutMs: number) => {
  const expected = await sumsFromRows(prefix)
  const deadline = Date.now() + timeoutMs
  let differences: Array<string> = []
  do {
    const actual = await profiles(prefix)
    differences = [...expected].flatMap(([custId, total]) => {
      const p = actual.get(custId)
      return p?.total === total && p.status === Elite.statusFor(total) ? [] : [`${custId}: rows ${total}, profile ${p?.total}/${p?.status}`]
    })
    if (differences.length === 0) return { customers: expected.size, differences }
    await sleep(200)
  } while (Date.now() < deadline)
  return { customers: expected.size, differences }
}

const runnerPid = () => Commands.runnerPid(local.home)

describe("the local pipeline", () => {
  it("is provisioned in order: tables, stream, function, mapping", () => {
    const result = pnpm("provision")
    assert.strictEqual(result.code, 0, result.stderr)
    // Every step decided first, then the changes applied, in order.
    const [planned, applied] = result.stdout.split("Applying:\n").map((part) => part.split("\n"))
    assert.strictEqual(planned?.[0], "Plan:")
    assert.match(planned?.[2] ?? "", /^\[2\/9\] DynamoDB Local: will start/)
    assert.match(applied?.[0] ?? "", /^\[1\/9\] DYNA_HOME .*: created/)
    assert.match(applied?.[1] ?? "", /^\[2\/9\] DynamoDB Local: started/)
    assert.match(applied?.[7] ?? "", /^\[8\/9\] function \(bundled\): created .*index\.mjs/)
    assert.match(applied?.[8] ?? "", /^\[9\/9\] stream mapping CustTransactions → local runner: started .*stream\/.*runner pid \d+/)
    assert.isTrue(alive(runnerPid()))
  })

  it("passes both Jam checks, leaving nothing of its test customer behind", async () => {
    const result = pnpm("verify")
    assert.strictEqual(result.code, 0, `${result.stdout}\n${result.stderr}`)
    assert.match(result.stdout, /PASS {2}Task 1: task1test1record is 250 \/ Normal/)
    assert.match(result.stdout, /PASS {2}Task 2: dyna-verify-\w+ reached 1050 \/ Elite \d+ ms after the last of 3 inserts/)
    // Not a row, a profile, a quarantined record nor an EliteQualified event (which `elite watch` would announce).
    const left = []
    for (const table of ["CustTransactions", "CustProfile", "CustTransactionsRejected", "CustEliteEvents"]) {
      left.push(...(await scanAll(table)).filter((item) => JSON.stringify(item).includes("dyna-verify-")).map((item) => `${table}: ${JSON.stringify(item)}`))
    }
    assert.deepStrictEqual(left, [])
  })

  it("counts 500 rows over 50 customers exactly once", async () => {
    await writeRows("e2e", 50, 500, 1)
    const { customers, differences } = await caughtUp("e2e", 60_000)
    assert.strictEqual(customers, 50)
    assert.deepStrictEqual(differences, [])
  })

  it("loses and doubles nothing when the runner is killed mid-stream and started again", async () => {
    const before = runnerPid()
    const writing = writeRows("restart", 40, 600, 10_000)
    await sleep(300)
    process.kill(before, "SIGKILL")
    await writing
    const restarted = pnpm("provision")
    assert.strictEqual(restarted.code, 0, restarted.stderr)
    assert.match(restarted.stdout, /\[9\/9\] stream mapping .*: started/)
    assert.notStrictEqual(runnerPid(), before)
    const { customers, differences } = await caughtUp("restart", 60_000)
    assert.strictEqual(customers, 40)
    assert.deepStrictEqual(differences, [])
    // The first batch's customers are still exact too: nothing from before the kill was counted again.
    assert.deepStrictEqual((await caughtUp("e2e", 1_000)).differences, [])
  })

  it("changes nothing on a second run", () => {
    const result = pnpm("provision")
    assert.strictEqual(result.code, 0, result.stderr)
    assert.include(result.stdout, "Nothing to change")
  })

  it("keeps the runner's log", () => {
    const result = pnpm("local:logs", "--lines", "500")
    assert.strictEqual(result.code, 0, result.stderr)
    assert.include(result.stdout, "batch")
  })

  it("is torn down with nothing left listening or running", async () => {
    const pid = runnerPid()
    // Tables with items are deleted only once agreed to: without a terminal or --yes, nothing changes.
    const refused = pnpm("teardown", "--delete-data")
    assert.strictEqual(refused.code, 1)
    assert.include(refused.stderr, "nothing was changed")
    assert.include(refused.stdout, "! deletes table CustTransactions and every item in it (a backup is taken first)")
    assert.isTrue(alive(pid))
    const result = pnpm("teardown", "--delete-data", "--yes")
    assert.strictEqual(result.code, 0, result.stderr)
    // Each table with items was saved, one JSON item per line, before it was deleted.
    const backups = readdirSync(join(local.home, "backups"))
    assert.includeMembers(backups.map((f) => f.replace(/-\d{4}-.*$/, "")), ["CustTransactions", "CustProfile"])
    assert.isFalse(alive(pid))
    assert.isFalse(await Effect.runPromise(isListening("127.0.0.1", local.port)))
    assert.isFalse(existsSync(join(local.home, "function")))
    assert.isFalse(existsSync(join(local.home, "data")))
    const again = pnpm("teardown")
    assert.strictEqual(again.code, 0, again.stderr)
    assert.include(again.stdout, "Nothing to remove")
  })
})
