/**
 * What DynamoDB says of a table (its description, or that it is missing), read once here for everyone:
 * the commands check their tables exist before they work, provisioning and status read keys and streams.
 */
import { DescribeTableCommand, type TableDescription } from "@aws-sdk/client-dynamodb"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { DynamoDb } from "./DynamoDb.js"
import * as Retry from "./Retry.js"

/** The table's description, or `undefined` when it does not exist. */
export const describeTable = (name: string) =>
  Effect.gen(function*() {
    const db = yield* DynamoDb
    return yield* Retry.onTransient(db.call("DescribeTable", (c) => c.send(new DescribeTableCommand({ TableName: name })))).pipe(
      Effect.map((out): TableDescription | undefined => out.Table),
      Effect.catchTag("DynamoDbError", (e) => (e.kind === "NotFound" ? Effect.succeed(undefined) : Effect.fail(e)))
    )
  })

/** A table the configuration names is missing: nothing was provisioned there yet. */
export class MissingTable extends Schema.TaggedError<MissingTable>()("MissingTable", { table: Schema.String }) {
  override get message() {
    return `table ${this.table} does not exist; run \`pnpm provision\` first`
  }
}

/** Checks, before a command does any work, that DynamoDB answers and the named tables exist. */
export const requireTables = (names: ReadonlyArray<string>) =>
  Effect.forEach(names, (name) =>
    describeTable(name).pipe(
      Effect.flatMap((table) => (table === undefined ? Effect.fail(new MissingTable({ table: name })) : Effect.void))
    ), { discard: true })
