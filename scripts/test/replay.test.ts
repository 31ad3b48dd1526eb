/**
 * `pnpm replay` as a user runs it, on its own in-memory DynamoDB Local (no stream, no runner): the
 * local runner's on-failure file is written by hand, as the runner writes it when it gives a batch up.
 */
import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb"
import * as Events from "@dyna/core/Events"
import * as OnFailure from "@dyna/tools/local/OnFailure"
import * as Effect from "effect/Effect"
import { join } from "node:path"
import { assert, describe, it } from "vitest"
import * as Commands from "./support/Commands.js"

const tables = Commands.useInMemoryTables("dyna-replay-")

const run = (...args: ReadonlyArray<string>) => Commands.pnpmSync(tables.env, "replay", ...args)

const STREAM = "arn:aws:dynamodb:ddblocal:000000000000:table/CustTransactions/stream/2026-01-01T00:00:00.000"

const insert = (custId: string, tnNum: number, tnValue: number | string, n: number) => ({
  ...Events.insert({ custId, tnNum, tnValue, sequenceNumber: Events.sequenceNumber(n) }),
  eventSourceARN: STREAM
})

const total = async (custId: string) =>
  (await tables.db.send(new GetItemCommand({ TableName: "CustProfile", Key: { CustID: { S: custId } }, ConsistentRead: true }))).Item?.TotalTnValue?.N

const putRow = (custId: string, tnNum: number, tnValue: string) =>
  tables.db.send(new PutItemCommand({ TableName: "CustTransactions", Item: { CustID: { S: custId }, TnNum: { N: String(tnNum) }, TnValue: { N: tnValue } } }))

const summary = (stdout: string) => stdout.trim().split("\n").at(-1) ?? ""

describe("pnpm replay", () => {
  it("answers --help with what it does, its flags and exit codes", () => {
    const help = run("--help")
    assert.strictEqual(help.code, 0, help.stderr)
    for (const text of ["Usage: pnpm replay", "--dry-run", "--yes", "--target local|aws", "on-failure.jsonl", "Safe to run twice", "Exit codes"]) {
      assert.include(help.stdout, text)
    }
  })

  it("rejects an unknown target with the usage and exit code 2", () => {
    const result = run("--target", "gcp")
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "--target must be local or aws")
    assert.include(result.stderr, "Usage: pnpm replay")
  })

  it("replays the runner's given-up records once, keeps the one whose row is malformed in the quarantine, and counts nothing the second time", async () => {
    await putRow("cli-a", 1, "70")
    await putRow("cli-a", 2, "80")
    await putRow("cli-b", 1, "9.99")
    await Effect.runPromise(OnFailure.append(join(tables.home, "runner", "on-failure.jsonl"), {
      requestContext: { requestId: "r-1", condition: "RetryAttemptsExhausted", approximateInvokeCount: 11 },
      version: "1.0",
      timestamp: "2026-01-01T00:00:00.000Z",
      DDBStreamBatchInfo: { shardId: "shard-1", startSequenceNumber: Events.sequenceNumber(1), endSequenceNumber: Events.sequenceNumber(3), batchSize: 3, streamArn: STREAM },
      payload: { Records: [insert("cli-a", 1, 70, 1), insert("cli-a", 2, 80, 2), insert("cli-b", 1, "9.99", 3)] }
    }))

    const dry = run("--dry-run")
    assert.strictEqual(dry.code, 0, dry.stderr)
    assert.match(dry.stdout, /^would replay {2}\S*on-failure\.jsonl entry 1 seq 100000000000000000001 {2}cli-a\/1$/m)
    assert.match(dry.stdout, /^would keep {2}\S*on-failure\.jsonl entry 1 seq 100000000000000000003 {2}cli-b\/1 {2}CustTransactions row cli-b\/1 cannot be counted: TnValue\.N must be a whole number of dollars$/m)
    assert.strictEqual(summary(dry.stdout), "Replay (dry run, nothing written): 3 record(s) (0 from the quarantine): 2 would be replayed, 1 would be kept in the quarantine, 0 skipped, 0 failed; 1 customer(s) would be recounted, 1 changed (+$150).")
    assert.isUndefined(await total("cli-a"))

    const first = run()
    assert.strictEqual(first.code, 0, first.stderr)
    assert.strictEqual(summary(first.stdout), "Replay done: 3 record(s) (0 from the quarantine): 2 replayed, 1 kept in the quarantine, 0 skipped, 0 failed; 1 customer(s) recounted, 1 changed (+$150).")
    assert.strictEqual(await total("cli-a"), "150")

    const listed = Commands.pnpmSync(tables.env, "exec", "tsx", "--conditions=source", "scripts/quarantine.ts", "--json")
    assert.strictEqual(listed.code, 0, listed.stderr)
    const items = listed.stdout.trim().split("\n").slice(0, -1).map((line) => JSON.parse(line) as Record<string, unknown>)
    assert.deepStrictEqual(items.map((i) => [i.recordId, i.custId, i.tnNum, i.field, i.cut]), [
      [`${STREAM}#${Events.sequenceNumber(3)}`, "cli-b", "1", "CustTransactions.TnValue.N", []]
    ])
    assert.match(String(items[0]?.expiresAt), /^\d{4}-\d{2}-\d{2}T/)

    const second = run()
    assert.strictEqual(second.code, 0, second.stderr)
    assert.strictEqual(summary(second.stdout), "Replay done: 4 record(s) (1 from the quarantine): 2 replayed, 2 kept in the quarantine, 0 skipped, 0 failed; 1 customer(s) recounted, 0 changed (+$0).")
    assert.strictEqual(await total("cli-a"), "150")
  })
})
