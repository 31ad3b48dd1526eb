/**
 * DynamoDB's TTL on the quarantine table: items carry `ExpiresAt` (epoch seconds, written by
 * `Quarantine.put` from `QUARANTINE_DAYS`) and DynamoDB deletes them after it, at no write cost, so
 * the quarantine keeps what finds and replays a record for a while, not every bad image for ever.
 */
import { DescribeTimeToLiveCommand, UpdateTimeToLiveCommand } from "@aws-sdk/client-dynamodb"
import * as Effect from "effect/Effect"
import { DynamoDb, type DynamoDbError } from "@dyna/aws/DynamoDb"
import { TTL_ATTRIBUTE } from "@dyna/aws/Quarantine"
import * as Retry from "@dyna/aws/Retry"
import { change, type Change, noChange, type Step } from "./Step.js"

/**
 * Decides, from DescribeTimeToLive alone, whether TTL on `attribute` must be enabled on `table`.
 * Enabled (or being enabled) on the attribute: nothing to do. Enabled on another attribute: DynamoDB
 * allows one per table and someone chose theirs, so it is kept and said. Being disabled: DynamoDB
 * refuses a change until that is done (up to an hour), so it is said, and a later run enables it.
 */
export const decide = (table: string, attribute: string = TTL_ATTRIBUTE): Effect.Effect<Change<DynamoDbError, DynamoDb>, DynamoDbError, DynamoDb> =>
  Effect.gen(function*() {
    const db = yield* DynamoDb
    const { TimeToLiveDescription: ttl } = yield* Retry.onTransient(db.call("DescribeTimeToLive", (c) =>
      c.send(new DescribeTimeToLiveCommand({ TableName: table }))))
    const status = ttl?.TimeToLiveStatus ?? "DISABLED"
    const current = ttl?.AttributeName
    const resource = `${table} TTL on ${attribute}`
    if ((status === "ENABLED" || status === "ENABLING") && current === attribute) {
      return noChange<DynamoDbError, DynamoDb>({ action: "unchanged", resource, detail: status.toLowerCase() })
    }
    if (status === "DISABLING") {
      return noChange<DynamoDbError, DynamoDb>({
        action: "kept",
        resource,
        detail: `TTL on ${current ?? "an attribute"} is being disabled; run again once it is (DynamoDB takes up to an hour)`
      })
    }
    if (status === "ENABLED" && current !== undefined && current !== attribute) {
      // One TTL attribute per table: someone chose theirs, and ours cannot be set until it is disabled.
      return noChange<DynamoDbError, DynamoDb>({
        action: "kept",
        resource,
        detail: `TTL is on ${current}, so quarantined items do not expire; disable it there to have ${attribute} used`
      })
    }
    return change({ action: "updated", resource, detail: "enable" }, Retry.onTransient(db.call("UpdateTimeToLive", (c) =>
      c.send(new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { Enabled: true, AttributeName: attribute } })))).pipe(
        Effect.as({ action: "updated" as const, resource, detail: "enabling" })
      ))
  })

/** The step provision runs after the quarantine table exists. */
export const step = (table: string): Step<DynamoDbError, DynamoDb> => ({
  title: `table ${table} (quarantine): expire items after QUARANTINE_DAYS`,
  decide: decide(table)
})
