/**
 * Reading CustTransactions rows as a recount needs them: every row of one customer, strongly
 * consistent, each checked by the same schema the stream images are; an unreadable row is named.
 */
import { type AttributeValue, QueryCommand } from "@aws-sdk/client-dynamodb"
import type * as Issue from "@dyna/core/Issue"
import * as Transaction from "@dyna/core/Transaction"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { DynamoDb, type DynamoDbError } from "./DynamoDb.js"
import * as Pages from "./Pages.js"
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

const unreadable = (item: Record<string, AttributeValue>, problem: Issue.Problem) =>
  new UnreadableRow({ custId: item.CustID?.S ?? "?", tnNum: item.TnNum?.N ?? "?", field: problem.field, reason: problem.message })

/** Reads a scanned or queried row; an unreadable one is an `UnreadableRow` naming it. */
export const fromItem = (item: Record<string, AttributeValue>) =>
  Transaction.fromRow(item).pipe(Result.mapError((problem) => unreadable(item, problem)))

/** Reads a customer's scanned or queried rows; the first unreadable one is an `UnreadableRow` naming it. */
export const fromItems = (items: ReadonlyArray<Record<string, AttributeValue>>) =>
  Transaction.fromRows(items).pipe(Result.mapError(({ item, problem }) => unreadable(item, problem)))

/** Reads CustTransactions rows: what `Recount.recount`, reconcile and replay count a customer's total from. */
export class TransactionStore extends Context.Service<TransactionStore, {
  /**
   * Every row of one customer, read strongly consistent: a recount conditioned on the profile it read
   * before must see every row written before that read. The first unreadable row fails it, by name.
   */
  readonly ofCustomer: (custId: string) => Effect.Effect<ReadonlyArray<Transaction.Transaction>, DynamoDbError | UnreadableRow>
}>()("dyna-elite/aws/TransactionStore") {
  /** Over whatever `DynamoDb` and `Tables` it is given: the tools' `AppLayer.operations` wires them once, tests give DynamoDB Local's. */
  static readonly layerNoDeps = Layer.effect(
    TransactionStore,
    Effect.gen(function*() {
      const db = yield* DynamoDb
      const tables = yield* Tables

      const ofCustomer = Effect.fnUntraced(function*(custId: string) {
        const items = yield* Pages.all((startKey) =>
          Retry.onTransient(db.call("Query", (c) =>
            c.send(
              new QueryCommand({
                TableName: tables.transactions,
                KeyConditionExpression: "CustID = :c",
                ExpressionAttributeValues: { ":c": { S: custId } },
                ConsistentRead: true,
                ExclusiveStartKey: startKey
              })
            ))))
        return yield* Effect.fromResult(fromItems(items))
      })

      return TransactionStore.of({ ofCustomer })
    })
  )

  /** Complete, its client and table names from the environment, for a script or test that wants this one service alone. */
  static readonly layer = TransactionStore.layerNoDeps.pipe(Layer.provide(Layer.mergeAll(DynamoDb.layer, Tables.layer)))
}
