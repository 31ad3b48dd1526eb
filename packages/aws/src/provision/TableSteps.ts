/**
 * Tables and the stream on CustTransactions, made idempotently: describe, then create or update; and
 * deleted, by teardown, only when asked to.
 */
import {
  type AttributeDefinition,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type KeySchemaElement,
  type StreamViewType,
  type TableDescription,
  UpdateTableCommand,
  waitUntilTableExists,
  waitUntilTableNotExists
} from "@aws-sdk/client-dynamodb"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { DynamoDb } from "../DynamoDb.js"
import * as Retry from "../Retry.js"
import type { Outcome } from "./Step.js"

export interface TableDefinition {
  readonly name: string
  readonly keySchema: ReadonlyArray<KeySchemaElement>
  readonly attributes: ReadonlyArray<AttributeDefinition>
}

/** CustTransactions: one row per purchase. */
export const transactionsTable = (name: string): TableDefinition => ({
  name,
  keySchema: [{ AttributeName: "CustID", KeyType: "HASH" }, { AttributeName: "TnNum", KeyType: "RANGE" }],
  attributes: [{ AttributeName: "CustID", AttributeType: "S" }, { AttributeName: "TnNum", AttributeType: "N" }]
})

/** CustProfile: one row per customer. */
export const profilesTable = (name: string): TableDefinition => ({
  name,
  keySchema: [{ AttributeName: "CustID", KeyType: "HASH" }],
  attributes: [{ AttributeName: "CustID", AttributeType: "S" }]
})

/** The quarantine: one row per rejected stream record. */
export const rejectedTable = (name: string): TableDefinition => ({
  name,
  keySchema: [{ AttributeName: "RecordId", KeyType: "HASH" }],
  attributes: [{ AttributeName: "RecordId", AttributeType: "S" }]
})

/** CustEliteEvents: one row per promotion, keyed by customer and the profile version that promoted them. */
export const eventsTable = (name: string): TableDefinition => ({
  name,
  keySchema: [{ AttributeName: "CustID", KeyType: "HASH" }, { AttributeName: "ProfileVersion", KeyType: "RANGE" }],
  attributes: [{ AttributeName: "CustID", AttributeType: "S" }, { AttributeName: "ProfileVersion", AttributeType: "N" }]
})

/** The table's description, or `undefined` when it does not exist. */
export const describeTable = (name: string) =>
  Effect.gen(function*() {
    const db = yield* DynamoDb
    return yield* Retry.onTransient(db.call("DescribeTable", (c) => c.send(new DescribeTableCommand({ TableName: name })))).pipe(
      Effect.map((out): TableDescription | undefined => out.Table),
      Effect.catchTag("DynamoDbError", (e) => (e.kind === "NotFound" ? Effect.succeed(undefined) : Effect.fail(e)))
    )
  })

const awaitActive = (name: string) =>
  Effect.gen(function*() {
    const db = yield* DynamoDb
    yield* db.call("waitUntilTableExists", (client) => waitUntilTableExists({ client, maxWaitTime: 300 }, { TableName: name }))
  })

/** Creates the table (on-demand billing) unless one of that name exists; an existing table is adopted as it is. */
export const ensureTable = (definition: TableDefinition) =>
  Effect.gen(function*() {
    const db = yield* DynamoDb
    const existing = yield* describeTable(definition.name)
    if (existing !== undefined) {
      return { action: "unchanged", resource: existing.TableArn ?? definition.name } satisfies Outcome
    }
    const created = yield* db.call("CreateTable", (c) =>
      c.send(
        new CreateTableCommand({
          TableName: definition.name,
          KeySchema: [...definition.keySchema],
          AttributeDefinitions: [...definition.attributes],
          BillingMode: "PAY_PER_REQUEST"
        })
      ))
    yield* awaitActive(definition.name)
    return { action: "created", resource: created.TableDescription?.TableArn ?? definition.name } satisfies Outcome
  })

/** Deletes the table if it exists; the data in it goes with it. */
export const deleteTable = (name: string) =>
  Effect.gen(function*() {
    const db = yield* DynamoDb
    const table = yield* describeTable(name)
    if (table === undefined) return { action: "unchanged", resource: name, detail: "not there" } satisfies Outcome
    yield* db.call("DeleteTable", (c) => c.send(new DeleteTableCommand({ TableName: name })))
    yield* db.call("waitUntilTableNotExists", (client) => waitUntilTableNotExists({ client, maxWaitTime: 300 }, { TableName: name }))
    return { action: "deleted", resource: table.TableArn ?? name } satisfies Outcome
  })

const carriesNewImage = (view: StreamViewType | undefined) => view === "NEW_IMAGE" || view === "NEW_AND_OLD_IMAGES"

const setStream = (name: string, enabled: boolean) =>
  Effect.gen(function*() {
    const db = yield* DynamoDb
    yield* db.call("UpdateTable", (c) =>
      c.send(
        new UpdateTableCommand({
          TableName: name,
          StreamSpecification: enabled ? { StreamEnabled: true, StreamViewType: "NEW_IMAGE" } : { StreamEnabled: false }
        })
      ))
    yield* awaitActive(name)
  })

/**
 * Makes the table's stream carry new images. A stream of another view type is switched off and on
 * again, which gives it a new ARN (whatever reads the old one must move).
 */
export const ensureStream = (name: string) =>
  Effect.gen(function*() {
    const before = yield* describeTable(name)
    const spec = before?.StreamSpecification
    if (spec?.StreamEnabled === true && carriesNewImage(spec.StreamViewType)) {
      return { action: "unchanged", resource: before?.LatestStreamArn ?? name, detail: spec.StreamViewType } satisfies Outcome
    }
    const replacing = spec?.StreamEnabled === true
    if (replacing) yield* setStream(name, false)
    yield* setStream(name, true)
    const after = yield* describeTable(name)
    return {
      action: replacing ? "updated" : "created",
      resource: after?.LatestStreamArn ?? name,
      detail: replacing ? `view type ${spec?.StreamViewType} → NEW_IMAGE` : "NEW_IMAGE"
    } satisfies Outcome
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
