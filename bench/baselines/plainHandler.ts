/**
 * The plain-SDK handler `pnpm bench` compares the Lambda artifact with: the same job as Dyna Elite's
 * handler — for each INSERT, one conditional UpdateItem on the profile — written as a user would
 * without Effect: `@aws-sdk/client-dynamodb` alone, records parsed by hand, the client made at load.
 * Bundled with the very esbuild options of `Bundle.make`, so the two artifacts differ only in code.
 */
import { DynamoDBClient, UpdateItemCommand } from "@aws-sdk/client-dynamodb"
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda"

// A baseline is written as users write one: configuration straight from the environment.
const table = process.env.PROFILES_TABLE ?? "CustProfile"
const client = new DynamoDBClient({ maxAttempts: 1 })

const ELITE_DOLLARS = 1000

/**
 * Adds the record's value to the customer's total unless its id is already in the profile's set of
 * applied ids, then promotes the customer when the new total crosses the threshold.
 */
const apply = async (custId: string, tnValue: number, id: string | undefined) => {
  try {
    const { Attributes } = await client.send(new UpdateItemCommand({
      TableName: table,
      Key: { CustID: { S: custId } },
      UpdateExpression: id === undefined ? "ADD TotalTnValue :v" : "ADD TotalTnValue :v, AppliedIds :ids",
      ...(id === undefined ? {} : { ConditionExpression: "NOT contains(AppliedIds, :id)" }),
      ExpressionAttributeValues: {
        ":v": { N: String(tnValue) },
        ...(id === undefined ? {} : { ":ids": { SS: [id] }, ":id": { S: id } })
      },
      ReturnValues: "ALL_NEW"
    }))
    const total = Number(Attributes?.TotalTnValue?.N ?? 0)
    const status = total >= ELITE_DOLLARS ? "Elite" : "Normal"
    if (Attributes?.CustStatus?.S !== status) {
      await client.send(new UpdateItemCommand({
        TableName: table,
        Key: { CustID: { S: custId } },
        UpdateExpression: "SET CustStatus = :s",
        ExpressionAttributeValues: { ":s": { S: status } }
      }))
    }
  } catch (error) {
    // Already applied: a redelivery.
    if (error instanceof Error && error.name === "ConditionalCheckFailedException") return
    throw error
  }
}

export const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const failures: Array<{ itemIdentifier: string }> = []
  for (const record of event.Records) {
    if (record.eventName !== "INSERT") continue
    const image = { ...record.dynamodb?.Keys, ...record.dynamodb?.NewImage }
    const custId = image.CustID?.S
    const tnValue = Number(image.TnValue?.N)
    if (custId === undefined || custId === "" || !Number.isInteger(tnValue)) {
      console.error(JSON.stringify({ message: "malformed record", sequenceNumber: record.dynamodb?.SequenceNumber }))
      continue
    }
    const tnNum = image.TnNum?.N
    const id = tnNum !== undefined ? `tn:${tnNum}` : record.dynamodb?.SequenceNumber
    try {
      await apply(custId, tnValue, id)
    } catch (error) {
      const sequenceNumber = record.dynamodb?.SequenceNumber
      if (sequenceNumber === undefined) throw error
      failures.push({ itemIdentifier: sequenceNumber })
    }
  }
  return { batchItemFailures: failures }
}
