/**
 * The table names, from configuration, defaulting to the Jam's.
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import type { AttributeDefinition, KeySchemaElement } from "@aws-sdk/client-dynamodb"

export class Tables extends Context.Service<Tables, {
  readonly transactions: string
  readonly profiles: string
  /** The quarantine: stream records that can never be applied, with their reason. */
  readonly rejected: string
  /** EliteQualified events: one per promotion, written atomically with the profile change. */
  readonly events: string
}>()("dyna-elite/aws/Tables") {
  static readonly layer = Layer.effect(
    Tables,
    Config.all({
      transactions: Config.String("TRANSACTIONS_TABLE").pipe(Config.withDefault("CustTransactions")),
      profiles: Config.String("PROFILES_TABLE").pipe(Config.withDefault("CustProfile")),
      rejected: Config.String("REJECTED_TABLE").pipe(Config.withDefault("CustTransactionsRejected")),
      events: Config.String("ELITE_EVENTS_TABLE").pipe(Config.withDefault("CustEliteEvents"))
    })
  )
}

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
