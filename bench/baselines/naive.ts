/**
 * The Jam's reference logic, the baseline of row 1: per record, read the profile, add, put it back.
 * Two deliveries of a record count it twice, and two racing writers lose one of the amounts.
 */
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb"
import { statusFor } from "@dyna/core/Elite"
import type { DynamoDBRecord } from "aws-lambda"

export const handler = (client: DynamoDBClient, table: string) => async (records: ReadonlyArray<DynamoDBRecord>) => {
  for (const r of records) {
    const custId = r.dynamodb?.NewImage?.CustID?.S ?? ""
    const value = Number(r.dynamodb?.NewImage?.TnValue?.N ?? 0)
    const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { CustID: { S: custId } } }))
    const total = Number(Item?.TotalTnValue?.N ?? 0) + value
    await client.send(new PutItemCommand({
      TableName: table,
      Item: { ...Item, CustID: { S: custId }, TotalTnValue: { N: String(total) }, CustStatus: { S: statusFor(total) } }
    }))
  }
}
