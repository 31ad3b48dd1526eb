/**
 * `pnpm backfill` as a user runs it, on its own in-memory DynamoDB Local with rows written straight into
 * CustTransactions (no stream, no runner: what the stream never delivered is the backfill's to count).
 */
import { type AttributeValue, BatchWriteItemCommand, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb"
import { freePort } from "@dyna/tools/local/DynamoDbLocal"
import * as Elite from "@dyna/core/Elite"
import * as Effect from "effect/Effect"
import { assert, describe, it } from "vitest"
import * as Commands from "./support/Commands.js"

const tables = Commands.useInMemoryTables("dyna-backfill-")

const pnpm = (args: ReadonlyArray<string>, extraEnv: NodeJS.ProcessEnv = {}) => Commands.pnpmSync({ ...tables.env, ...extraEnv }, ...args)

const row = (custId: string, tnNum: number, tnValue: number): Record<string, AttributeValue> => ({
  CustID: { S: custId },
  TnNum: { N: String(tnNum) },
  TnValue: { N: String(tnValue) }
})

const writeRows = async (items: ReadonlyArray<Record<string, AttributeValue>>) => {
  for (let i = 0; i < items.length; i += 25) {
    let pending = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }))
    while (pending.length > 0) {
      const out = await tables.db.send(new BatchWriteItemCommand({ RequestItems: { CustTransactions: pending } }))
      pending = (out.UnprocessedItems?.CustTransactions ?? []).flatMap((w) => (w.PutRequest?.Item === undefined ? [] : [{ PutRequest: { Item: w.PutRequest.Item } }]))
    }
  }
}

const profile = async (custId: string) => {
  const out = await tables.db.send(new GetItemCommand({ TableName: "CustProfile", Key: { CustID: { S: custId } }, ConsistentRead: true }))
  return { total: out.Item?.TotalTnValue?.N, status: out.Item?.CustStatus?.S }
}

const summaryPattern = /^Backfill done: ([\d,]+) rows? scanned for ([\d,]+) customers? in [\d.]+ s \([\d,]+ rows\/s\): ([\d,]+) applied, ([\d,]+) already counted, ([\d,]+) customers? changed, ([\d,]+) promotions?, ([\d,]+) skipped\.$/

/** The summary's figures: scanned, customers, applied, already counted, changed, promotions, skipped. */
const figures = (stdout: string) => {
  const lines = stdout.trim().split("\n")
  assert.lengthOf(lines, 1, stdout)
  const m = summaryPattern.exec(lines[0] ?? "")
  assert.isNotNull(m, stdout)
  return (m?.slice(1) ?? []).map((n) => Number(n.replaceAll(",", "")))
}

describe("pnpm backfill", () => {
  it("answers --help with what it does, its flags and exit codes", () => {
    const help = pnpm(["backfill", "--help"])
    assert.strictEqual(help.code, 0, help.stderr)
    for (const text of ["Usage: pnpm backfill", "--segments N", "--concurrency N", "--target local|aws", "beside the stream", "Exit codes"]) {
      assert.include(help.stdout, text)
    }
  })

  it("rejects a count that is not a positive whole number, with the usage and exit code 2", () => {
    // The check itself is tested as a function (flags.test.ts); this proves it is wired in.
    const result = pnpm(["backfill", "--concurrency", "2.5"])
    assert.strictEqual(result.code, 2)
    assert.match(result.stderr, /^error: --concurrency must be a whole number from 1 to 1000, not "2.5"/)
    assert.include(result.stderr, "Usage: pnpm backfill")
  })

  it("counts every row once, shows its progress, ends with a summary, and counts nothing on a second run", async () => {
    const sums = new Map<string, number>()
    const items = Array.from({ length: 300 }, (_, i) => {
      const custId = `cli-${i % 30}`
      // Customer k averages about 40 + 7k dollars a row: the later ones pass $1,000 in their 10 rows.
      const tnValue = 20 + 7 * (i % 30) + ((i * 13) % 40)
      sums.set(custId, (sums.get(custId) ?? 0) + tnValue)
      return row(custId, i + 1, tnValue)
    })
    await writeRows(items)
    const elite = [...sums.values()].filter((t) => Elite.statusFor(t) === "Elite").length
    assert.isAbove(elite, 0)
    assert.isBelow(elite, 30)

    const first = pnpm(["backfill", "--segments", "3", "--concurrency", "8"])
    assert.strictEqual(first.code, 0, first.stderr)
    assert.deepStrictEqual(figures(first.stdout), [300, 30, 300, 0, 30, elite, 0])
    // The progress line's last state, on stderr: not a terminal, so plain lines.
    assert.match(first.stderr, /^backfill \[#{30}\] 300\/300 rows {2}100%/m)
    for (const [custId, total] of sums) {
      assert.deepStrictEqual(await profile(custId), { total: String(total), status: Elite.statusFor(total) }, custId)
    }

    const second = pnpm(["backfill"])
    assert.strictEqual(second.code, 0, second.stderr)
    assert.deepStrictEqual(figures(second.stdout), [300, 30, 0, 300, 0, 0, 0])
  })

  it("names a customer it cannot count, counts the others, and exits 1", async () => {
    await writeRows([row("cli-new", 1, 70), row("cli-broken", 1, 5)])
    await tables.db.send(new PutItemCommand({ TableName: "CustTransactions", Item: { CustID: { S: "cli-broken" }, TnNum: { N: "2" }, TnValue: { N: "9.99" } } }))
    const result = pnpm(["backfill"])
    assert.strictEqual(result.code, 1)
    assert.include(result.stderr, "skipped customer cli-broken: CustTransactions row cli-broken/2 cannot be counted: TnValue.N must be a whole number of dollars")
    assert.notInclude(result.stderr, "    at ")
    assert.deepStrictEqual(figures(result.stdout), [303, 32, 1, 300, 1, 0, 1])
    assert.deepStrictEqual(await profile("cli-new"), { total: "70", status: "Normal" })
    assert.deepStrictEqual(await profile("cli-broken"), { total: undefined, status: undefined })
  })

  it("says in one line that DynamoDB is not reachable, with exit code 1", async () => {
    const port = await Effect.runPromise(freePort)
    const result = pnpm(["backfill"], { AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}` })
    assert.strictEqual(result.code, 1)
    assert.match(result.stderr, /^error: DynamoDB is not reachable at http:\/\/127\.0\.0\.1:\d+/m)
    assert.notInclude(result.stderr, "    at ")
    assert.strictEqual(result.stdout, "")
  })
})
