/**
 * `pnpm bench:latency`: insert → profile delay on the running local stack (run `pnpm provision`
 * first). Each insert goes to a fresh customer through PutItem; the profile is then read every
 * 5 ms until it shows the amount. Inserts are sequential, one at a time, so each delay is the
 * pipeline's own: stream, runner poll, function, profile write. Prints p50, p90, p99 and max.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb"
import * as Effect from "effect/Effect"
import * as LocalConfig from "@dyna/aws/local/LocalConfig"
import { randomUUID } from "node:crypto"
import { writeFileSync } from "node:fs"

const INSERTS = Number(process.env.BENCH_INSERTS ?? 300)
const POLL_MS = 5

const { endpoint } = await Effect.runPromise(Effect.provide(LocalConfig.settings, LocalConfig.layer))
const db = new DynamoDBClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "bench", secretAccessKey: "bench" } })
const tables = { transactions: process.env.TRANSACTIONS_TABLE ?? "CustTransactions", profiles: process.env.PROFILES_TABLE ?? "CustProfile" }
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const run = randomUUID().slice(0, 6)
const delays: Array<number> = []
for (let i = 0; i < INSERTS; i++) {
  const custId = `bench-latency-${run}-${i}`
  await db.send(new PutItemCommand({
    TableName: tables.transactions,
    Item: { CustID: { S: custId }, TnNum: { N: String(i + 1) }, TnValue: { N: "42" } }
  }))
  const insertedAt = performance.now()
  for (;;) {
    const { Item } = await db.send(new GetItemCommand({ TableName: tables.profiles, Key: { CustID: { S: custId } }, ConsistentRead: true }))
    if (Item?.TotalTnValue?.N === "42") break
    if (performance.now() - insertedAt > 30_000) throw new Error(`${custId} was not counted within 30 s: is the runner running?`)
    await sleep(POLL_MS)
  }
  delays.push(performance.now() - insertedAt)
  if ((i + 1) % 50 === 0) process.stderr.write(`${i + 1}/${INSERTS} inserts\n`)
}
db.destroy()

const sorted = [...delays].sort((a, b) => a - b)
const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN
const result = { inserts: INSERTS, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1), pollMs: POLL_MS }
console.log(`insert → profile over ${INSERTS} inserts: p50 ${result.p50.toFixed(0)} ms, p90 ${result.p90.toFixed(0)} ms, p99 ${result.p99.toFixed(0)} ms, max ${result.max.toFixed(0)} ms`)
writeFileSync(new URL("results-latency.json", import.meta.url), `${JSON.stringify(result, null, 2)}\n`)
