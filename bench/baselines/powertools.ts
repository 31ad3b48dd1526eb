/**
 * A Powertools-style handler, the second baseline of row 1: the naive handler's profile write wrapped
 * in an idempotency record per stream record, as `makeIdempotent` from `@aws-lambda-powertools/idempotency`
 * with its `DynamoDBPersistenceLayer` does it. The package itself is not used (the bench stays free of
 * dependencies); its write pattern is modelled on `DynamoDBPersistenceLayer._putRecord` and `_updateRecord`:
 *
 * 1. PutItem `{ id, expiration, status: "INPROGRESS", in_progress_expiration }` on the idempotency
 *    table, on condition that no record with that id exists (or it expired, or an in-progress one
 *    timed out): a failed condition means "already processed", and the record is skipped;
 * 2. the business write: the profile read, then one UpdateItem that ADDs the amount and sets the status;
 * 3. UpdateItem of the idempotency record to `status: "COMPLETED"` with the response and a new expiry.
 *
 * Three writes per record, and not atomic: a crash between 2 and 3 leaves an INPROGRESS record that,
 * once it times out, lets a redelivery count the amount again.
 */
import { type DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb"
import type { TableDefinition } from "@dyna/tools/provision/TableSteps"
import { statusFor } from "@dyna/core/Elite"
import type { DynamoDBRecord } from "aws-lambda"

/** Powertools' defaults: records expire after an hour; an in-progress one after the invocation's remaining time. */
const EXPIRES_AFTER_SECONDS = 3600
const IN_PROGRESS_MILLIS = 60_000

/** The idempotency table as Powertools documents it: partition key `id`. */
export const idempotencyTable = (name: string): TableDefinition => ({
  name,
  keySchema: [{ AttributeName: "id", KeyType: "HASH" }],
  attributes: [{ AttributeName: "id", AttributeType: "S" }]
})

export interface Tables {
  readonly profiles: string
  readonly idempotency: string
}

export const handler = (client: DynamoDBClient, tables: Tables) => async (records: ReadonlyArray<DynamoDBRecord>) => {
  for (const r of records) {
    const image = r.dynamodb?.NewImage
    const custId = image?.CustID?.S ?? ""
    const value = Number(image?.TnValue?.N ?? 0)
    // The idempotency key, as `eventKeyJmesPath` would pick it from the record.
    const id = `dyna-bench#${custId}#${image?.TnNum?.N ?? ""}`
    const nowMillis = Date.now()
    const now = Math.floor(nowMillis / 1000)
    try {
      await client.send(new PutItemCommand({
        TableName: tables.idempotency,
        Item: {
          id: { S: id },
          expiration: { N: String(now + EXPIRES_AFTER_SECONDS) },
          status: { S: "INPROGRESS" },
          in_progress_expiration: { N: String(nowMillis + IN_PROGRESS_MILLIS) }
        },
        ConditionExpression:
          "attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)",
        ExpressionAttributeNames: { "#id": "id", "#expiry": "expiration", "#status": "status", "#in_progress_expiry": "in_progress_expiration" },
        ExpressionAttributeValues: {
          ":now": { N: String(nowMillis / 1000) },
          ":now_in_millis": { N: String(nowMillis) },
          ":inprogress": { S: "INPROGRESS" }
        },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD"
      }))
    } catch (error) {
      if (error instanceof Error && error.name === "ConditionalCheckFailedException") continue
      throw error
    }
    const { Item } = await client.send(new GetItemCommand({ TableName: tables.profiles, Key: { CustID: { S: custId } } }))
    const total = Number(Item?.TotalTnValue?.N ?? 0) + value
    await client.send(new UpdateItemCommand({
      TableName: tables.profiles,
      Key: { CustID: { S: custId } },
      UpdateExpression: "ADD TotalTnValue :v SET CustStatus = :s",
      ExpressionAttributeValues: { ":v": { N: String(value) }, ":s": { S: statusFor(total) } }
    }))
    await client.send(new UpdateItemCommand({
      TableName: tables.idempotency,
      Key: { id: { S: id } },
      UpdateExpression: "SET #response_data = :response_data, #expiry = :expiry, #status = :status",
      ExpressionAttributeNames: { "#response_data": "data", "#expiry": "expiration", "#status": "status" },
      ExpressionAttributeValues: {
        ":response_data": { S: JSON.stringify({ custId, total }) },
        ":expiry": { N: String(now + EXPIRES_AFTER_SECONDS) },
        ":status": { S: "COMPLETED" }
      }
    }))
  }
}
