import { DescribeTableCommand, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb"
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand
} from "@aws-sdk/client-dynamodb-streams"
import * as Events from "@dyna/core/Events"
import type { DynamoDBRecord } from "aws-lambda"
import { assert, describe, it } from "vitest"
import acceptance from "../../../events/jam-task1.json" with { type: "json" }
import * as DynamoLocal from "./support/DynamoLocal.js"

const ctx = DynamoLocal.useHandler()

describe("handler on DynamoDB Local", () => {
  it("passes the Jam's acceptance event: task1test1record has 250 / Normal", async () => {
    const response = await ctx.live.handler(acceptance as Parameters<typeof ctx.live.handler>[0])
    assert.deepStrictEqual(response, { batchItemFailures: [] })
    const row = await DynamoLocal.profileRow(ctx.names, "task1test1record")
    assert.strictEqual(row?.TotalTnValue, 250)
    assert.strictEqual(row?.CustStatus, "Normal")
    const line = ctx.live.logs.find((l) => l.message === "applied unguarded: no TnNum or SequenceNumber to recognise a repeat by")
    assert.isDefined(line)
  })

  it("keeps 999 Normal and turns Elite at exactly 1000", async () => {
    await ctx.live.handler(Events.batch(DynamoLocal.inserts("edge", [[1, 500], [2, 499]])))
    assert.deepInclude(await DynamoLocal.profileRow(ctx.names, "edge"), { TotalTnValue: 999, CustStatus: "Normal" })
    await ctx.live.handler(Events.batch(DynamoLocal.inserts("edge", [[3, 1]])))
    assert.deepInclude(await DynamoLocal.profileRow(ctx.names, "edge"), { TotalTnValue: 1000, CustStatus: "Elite" })
  })

  it("counts a batch delivered three times once", async () => {
    const event = Events.batch([...DynamoLocal.inserts("thrice-a", [[1, 100], [2, 200]]), ...DynamoLocal.inserts("thrice-b", [[1, 900], [2, 150]])])
    for (let i = 0; i < 3; i++) assert.deepStrictEqual(await ctx.live.handler(event), { batchItemFailures: [] })
    assert.deepInclude(await DynamoLocal.profileRow(ctx.names, "thrice-a"), { TotalTnValue: 300, CustStatus: "Normal" })
    assert.deepInclude(await DynamoLocal.profileRow(ctx.names, "thrice-b"), { TotalTnValue: 1050, CustStatus: "Elite" })
    assert.deepInclude(ctx.live.summaries().at(-1), { records: 4, applied: 0, duplicates: 4 })
  })

  it("counts overlapping batches and in-batch repeats once", async () => {
    const [a, b, c, d] = DynamoLocal.inserts("overlap", [[1, 10], [2, 20], [3, 30], [4, 40]])
    if (!a || !b || !c || !d) throw new Error("fixture")
    await ctx.live.handler(Events.batch([a, b, c]))
    await ctx.live.handler(Events.batch([b, c, d, d]))
    assert.deepInclude(await DynamoLocal.profileRow(ctx.names, "overlap"), { TotalTnValue: 100 })
  })

  it("quarantines a record with a 400 KB CustID and logs the start of it", async () => {
    const custId = `long-${"x".repeat(400 * 1024)}`
    assert.deepStrictEqual(await ctx.live.handler(Events.batch(DynamoLocal.inserts(custId, [[1, 40]]))), { batchItemFailures: [] })
    const line = ctx.live.logs.find((l) => l.message === "record quarantined" && String(l.annotations.custId).startsWith("long-"))
    assert.strictEqual(line?.annotations.field, "CustID.S")
    assert.strictEqual(String(line?.annotations.custId), `${custId.slice(0, 256)}… (${custId.length} characters)`)
    assert.isBelow(JSON.stringify(line).length, 4096)
  })

  it("skips MODIFY and REMOVE and counts them in the log line", async () => {
    const event = Events.batch([
      ...DynamoLocal.inserts("changes", [[1, 40]]),
      Events.change("MODIFY", { custId: "changes", tnNum: 1, tnValue: 4000, sequenceNumber: DynamoLocal.nextSequenceNumber() }),
      Events.change("REMOVE", { custId: "changes", tnNum: 1, tnValue: 40, sequenceNumber: DynamoLocal.nextSequenceNumber() })
    ])
    assert.deepStrictEqual(await ctx.live.handler(event), { batchItemFailures: [] })
    assert.deepInclude(await DynamoLocal.profileRow(ctx.names, "changes"), { TotalTnValue: 40 })
    assert.deepInclude(ctx.live.summaries().at(-1), {
      records: 3,
      applied: 1,
      skipped: 2,
      failed: 0
    })
  })

  it("keeps every attribute an existing profile has and adds to its total", async () => {
    await DynamoLocal.putItem(ctx.names.profiles, {
      CustID: { S: "jam-customer" },
      FirstName: { S: "Mary" },
      Email: { S: "mary@example.com" },
      TotalTnValue: { N: "900" },
      CustStatus: { S: "Normal" }
    })
    await ctx.live.handler(Events.batch(DynamoLocal.inserts("jam-customer", [[1, 150]])))
    assert.deepInclude(await DynamoLocal.profileRow(ctx.names, "jam-customer"), {
      FirstName: "Mary",
      Email: "mary@example.com",
      TotalTnValue: 1050,
      CustStatus: "Elite"
    })
  })

  it("applies a batch for a customer whose applied log is already near DynamoDB's 400 KB item limit", async () => {
    // As many ids, counted just now, as fit (found to within 50): the item sits just under the limit. The
    // log moves to pages instead of growing past it, so no valid purchase is quarantined for its size.
    const now = String(Math.floor(Date.now() / 1000))
    const setLog = (ids: number) =>
      DynamoLocal.client().send(new UpdateItemCommand({
        TableName: ctx.names.profiles,
        Key: { CustID: { S: "huge-log" } },
        UpdateExpression: "SET TotalTnValue = :t, CustStatus = :s, AppliedTn = :a, ProfileVersion = :v",
        ExpressionAttributeValues: {
          ":t": { N: "10" },
          ":s": { S: "Normal" },
          ":a": { M: Object.fromEntries(Array.from({ length: ids }, (_, i) => [String(2_000_000_000 + i), { N: now }])) },
          ":v": { N: "1" }
        }
      })).then(() => true, () => false)
    let [fits, fails] = [20_000, 40_000]
    while (fails - fits > 50) {
      const middle = Math.floor((fits + fails) / 2)
      if (await setLog(middle)) fits = middle
      else fails = middle
    }
    assert.isTrue(await setLog(fits))
    const records = DynamoLocal.inserts("huge-log", Array.from({ length: 100 }, (_, i) => [1_000_000_000 + i, 5] as const))
    assert.deepStrictEqual(await ctx.live.handler(Events.batch(records)), { batchItemFailures: [] })
    assert.deepInclude(ctx.live.summaries().at(-1), { records: 100, applied: 100, quarantined: 0, failed: 0 })
    assert.deepInclude(await DynamoLocal.profileRow(ctx.names, "huge-log"), { TotalTnValue: 510 })
    // Delivered again, the batch is found in the pages: nothing is counted twice.
    assert.deepStrictEqual(await ctx.live.handler(Events.batch(records)), { batchItemFailures: [] })
    assert.deepInclude(ctx.live.summaries().at(-1), { records: 100, applied: 0, duplicates: 100 })
    assert.deepInclude(await DynamoLocal.profileRow(ctx.names, "huge-log"), { TotalTnValue: 510 })
  })
})

/** Every record on the table's stream so far, shaped as Lambda hands them to a function. */
const streamRecords = async (): Promise<Array<DynamoDBRecord>> => {
  const streams = new DynamoDBStreamsClient({
    endpoint: DynamoLocal.endpoint(),
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" }
  })
  const table = await DynamoLocal.client().send(new DescribeTableCommand({ TableName: ctx.names.transactions }))
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: table.Table?.LatestStreamArn }))
  const records: Array<DynamoDBRecord> = []
  for (const shard of StreamDescription?.Shards ?? []) {
    let iterator = (await streams.send(new GetShardIteratorCommand({
      StreamArn: StreamDescription?.StreamArn,
      ShardId: shard.ShardId,
      ShardIteratorType: "TRIM_HORIZON"
    }))).ShardIterator
    for (let empty = 0; iterator !== undefined && empty < 2;) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }))
      if ((page.Records ?? []).length === 0) empty++
      // A JSON round trip gives what Lambda sends: dates as epoch seconds, no class instances.
      for (const r of page.Records ?? []) {
        const json = JSON.parse(JSON.stringify(r)) as DynamoDBRecord
        const approx = r.dynamodb?.ApproximateCreationDateTime
        if (json.dynamodb && approx) json.dynamodb.ApproximateCreationDateTime = Math.floor(approx.getTime() / 1000)
        records.push(json)
      }
      iterator = page.NextShardIterator
    }
  }
  streams.destroy()
  return records
}

describe("records from a real DynamoDB stream", () => {
  it("carry NEW_IMAGE and are applied as Lambda would deliver them", async () => {
    const rows = [["s-1", 1, 400], ["s-1", 2, 650], ["s-2", 1, 90]] as const
    for (const [custId, tnNum, tnValue] of rows) {
      await DynamoLocal.client().send(new PutItemCommand({
        TableName: ctx.names.transactions,
        Item: { CustID: { S: custId }, TnNum: { N: String(tnNum) }, TnValue: { N: String(tnValue) } }
      }))
    }
    const records = await streamRecords()
    assert.strictEqual(records.length, 3)
    assert.isDefined(records[0]?.dynamodb?.NewImage?.TnValue)
    assert.match(records[0]?.dynamodb?.SequenceNumber ?? "", /^\d{21,40}$/)

    assert.deepStrictEqual(await ctx.live.handler({ Records: records }), { batchItemFailures: [] })
    assert.deepInclude(await DynamoLocal.profileRow(ctx.names, "s-1"), { TotalTnValue: 1050, CustStatus: "Elite" })
    assert.deepInclude(await DynamoLocal.profileRow(ctx.names, "s-2"), { TotalTnValue: 90, CustStatus: "Normal" })
  })
})
