/**
 * Reading CustTransactions rows as the handler's recount needs them: every row of one customer, strongly
 * consistent, each checked by the same schema the stream images are; an unreadable row is named.
 */
import { type AttributeValue, QueryCommand } from "@aws-sdk/client-dynamodb"
import * as Transaction from "@dyna/core/Transaction"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { DynamoDb } from "./DynamoDb.js"
import * as Retry from "./Retry.js"
import { Tables } from "./Tables.js"

/** A CustTransactions row that cannot be counted: which one, and the field at fault. */
export class UnreadableRow extends Schema.TaggedError<UnreadableRow>()("UnreadableRow", {
  custId: Schema.String,
  tnNum: Schema.String,
  field: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `CustTransactions row ${this.custId}/${this.tnNum} cannot be counted: ${this.field} ${this.reason}`
  }
}

/** Reads a scanned or queried row; an unreadable one is an `UnreadableRow` naming it. */
export const fromItem = (item: Record<string, AttributeValue>) =>
  Transaction.fromRow(item).pipe(
    Result.mapError((problem) =>
      new UnreadableRow({ custId: item.CustID?.S ?? "?", tnNum: item.TnNum?.N ?? "?", field: problem.field, reason: problem.message })
    )
  )

/**
 * Every row of one customer, read strongly consistent: a recount conditioned on the profile it read
 * before must see every row written before that read.
 */
export const ofCustomer = Effect.fn("Transactions.ofCustomer")(function*(custId: string) {
  const db = yield* DynamoDb
  const tables = yield* Tables
  const rows: Array<Transaction.Transaction> = []
  let startKey: Record<string, AttributeValue> | undefined
  do {
    const page = yield* Retry.onTransient(db.call("Query", (c) =>
      c.send(
        new QueryCommand({
          TableName: tables.transactions,
          KeyConditionExpression: "CustID = :c",
          ExpressionAttributeValues: { ":c": { S: custId } },
          ConsistentRead: true,
          ExclusiveStartKey: startKey
        })
      )))
    for (const item of page.Items ?? []) rows.push(yield* Effect.fromResult(fromItem(item)))
    startKey = page.LastEvaluatedKey
  } while (startKey !== undefined)
  return rows
})
