/**
 * CustTransactions rows as a shop front-end writes them: one checked row per purchase, never
 * overwriting one that exists (that would change a counted amount behind the profile's back).
 */
import { type AttributeValue, DeleteItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb"
import * as Transaction from "@dyna/core/Transaction"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import { DynamoDb, type DynamoDbError } from "@dyna/aws/DynamoDb"
import { describeTable } from "@dyna/aws/TableDescription"
import * as Retry from "@dyna/aws/Retry"
import { Tables } from "@dyna/aws/Tables"

export class InvalidTransaction extends Schema.TaggedError<InvalidTransaction>()("InvalidTransaction", {
  message: Schema.String
}) {}

export class DuplicateTransaction extends Schema.TaggedError<DuplicateTransaction>()("DuplicateTransaction", {
  custId: Schema.String,
  tnNum: Schema.String
}) {
  override get message() {
    return `transaction ${this.tnNum} of ${this.custId} already exists; a row is written once`
  }
}

export { fromItem, UnreadableRow } from "@dyna/aws/TransactionStore"

export interface Row {
  readonly custId: string
  readonly tnNum: string
  readonly tnValue: string
}

const formatIssue = SchemaIssue.makeFormatterStandardSchemaV1()

/** The row as a DynamoDB item, checked by the same schema the handler decodes stream images with. */
export const toItem = (row: Row): Effect.Effect<Record<string, AttributeValue>, InvalidTransaction> => {
  const item = { CustID: { S: row.custId }, TnNum: { N: row.tnNum }, TnValue: { N: row.tnValue } }
  return Schema.decodeUnknownEffect(Transaction.Item)(item, { errors: "all" }).pipe(
    Effect.mapError((error) => {
      const problems = formatIssue(error.issue).issues.map((issue) => `${issue.path?.map(String).join(".") ?? ""}: ${issue.message}`)
      return new InvalidTransaction({ message: `invalid transaction: ${problems.join("; ")}` })
    }),
    Effect.map((decoded) => ({
      CustID: { S: decoded.CustID.S },
      TnNum: { N: decoded.TnNum?.N ?? row.tnNum },
      TnValue: { N: String(decoded.TnValue.N) }
    }))
  )
}

/** Writes one new transaction row. */
export const put = (row: Row) =>
  Effect.gen(function*() {
    const db = yield* DynamoDb
    const tables = yield* Tables
    const item = yield* toItem(row)
    yield* Retry.onTransient(db.call("PutItem", (c) =>
      c.send(new PutItemCommand({ TableName: tables.transactions, Item: item, ConditionExpression: "attribute_not_exists(CustID)" }))
    )).pipe(
      Effect.catchTag("DynamoDbError", (e): Effect.Effect<never, DynamoDbError | DuplicateTransaction> =>
        e.kind === "ConditionFailed" ? Effect.fail(new DuplicateTransaction({ custId: row.custId, tnNum: row.tnNum })) : Effect.fail(e))
    )
    return item
  })

/** Deletes rows by the table's own key schema (an adopted table may be keyed otherwise than ours). */
export const remove = (items: ReadonlyArray<Record<string, AttributeValue>>) =>
  Effect.gen(function*() {
    const db = yield* DynamoDb
    const tables = yield* Tables
    const keyNames = ((yield* describeTable(tables.transactions))?.KeySchema ?? []).flatMap((k) => k.AttributeName ?? [])
    yield* Effect.forEach(items, (item) => {
      const key = Object.fromEntries(keyNames.flatMap((name) => (item[name] === undefined ? [] : [[name, item[name]] as const])))
      return Retry.onTransient(db.call("DeleteItem", (c) => c.send(new DeleteItemCommand({ TableName: tables.transactions, Key: key }))))
    }, { discard: true })
  })
