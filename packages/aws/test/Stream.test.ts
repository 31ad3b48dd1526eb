import { DescribeTableCommand, PutItemCommand } from "@aws-sdk/client-dynamodb"
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand
} from "@aws-sdk/client-dynamodb-streams"
import type { DynamoDBRecord } from "aws-lambda"
import { assert, describe, it } from "vitest"
import * as DynamoLocal from "./support/DynamoLocal.js"
const ctx = DynamoLocal.useHandler()

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
