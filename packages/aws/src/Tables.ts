/**
 * The table names, from the environment, defaulting to the Jam's: the one place that writes those names
 * and the variables they are read from (`Deployment.names` and the tools derive theirs from here).
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { AttributeDefinition, KeySchemaElement } from "@aws-sdk/client-dynamodb"
import * as Environment from "./Environment.js"

/** The four tables by role: what `Tables` provides, and what a deployment names. */
export interface TableNames {
  readonly transactions: string
  readonly profiles: string
  /** The quarantine: stream records that can never be applied, with their reason. */
  readonly rejected: string
  /** EliteQualified events: one per promotion, written atomically with the profile change. */
  readonly events: string
}

/** The Jam's table names, written once: the default here, and what `--prefix` puts its prefix before. */
export const jamTableNames: TableNames = {
  transactions: "CustTransactions",
  profiles: "CustProfile",
  rejected: "CustTransactionsRejected",
  events: "CustEliteEvents"
}

/** The configuration variable each table's name is read from (the function's environment sets them). */
export const variables: { readonly [K in keyof TableNames]: string } = {
  transactions: "TRANSACTIONS_TABLE",
  profiles: "PROFILES_TABLE",
  rejected: "REJECTED_TABLE",
  events: "ELITE_EVENTS_TABLE"
}

const nameOf = (table: keyof TableNames) => Environment.orDefault(variables[table], jamTableNames[table])

/** The table names this program works on, read once from the environment (`Environment`). */
export class Tables extends Context.Service<Tables, TableNames>()("dyna-elite/aws/Tables") {
  /** From `TRANSACTIONS_TABLE` and its siblings, defaulting to the Jam's names, so one bundle serves any deployment. */
  static readonly layer = Layer.effect(
    Tables,
    Effect.all({
      transactions: nameOf("transactions"),
      profiles: nameOf("profiles"),
      rejected: nameOf("rejected"),
      events: nameOf("events")
    })
  )
}

/** A table's name and keys, as provision and the tests create it: one definition per table, shared by both. */
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
