/**
 * Tables and the stream on CustTransactions, made idempotently: describe, then create (tagged as this
 * deployment's) or update; and deleted by teardown only when asked to, only if ours, after a backup.
 */
import {
  CreateBackupCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeBackupCommand,
  ListTagsOfResourceCommand,
  ScanCommand,
  type StreamViewType,
  type TableDescription,
  UpdateTableCommand,
  waitUntilTableExists,
  waitUntilTableNotExists
} from "@aws-sdk/client-dynamodb"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { isOwnedBy, type OwnerTag } from "@dyna/aws/Deployment"
import { DynamoDb, type DynamoDbError } from "@dyna/aws/DynamoDb"
import * as Retry from "@dyna/aws/Retry"
import { applied, change, noChange, type Outcome } from "./Step.js"
import { describeTable } from "@dyna/aws/TableDescription"
import type { TableDefinition } from "@dyna/aws/Tables"
export { eventsTable, profilesTable, rejectedTable, type TableDefinition, transactionsTable } from "@dyna/aws/Tables"

const awaitActive = (name: string) =>
  Effect.gen(function*() {
    const db = yield* DynamoDb
    yield* db.call("waitUntilTableExists", (client) => waitUntilTableExists({ client, maxWaitTime: 300 }, { TableName: name }))
  })

/** A table's tags (all pages), as a map. */
export const tagsOf = (tableArn: string) =>
  Effect.gen(function*() {
    const db = yield* DynamoDb
    const tags: Record<string, string> = {}
    let next: string | undefined
    do {
      const page = yield* Retry.onTransient(db.call("ListTagsOfResource", (c) =>
        c.send(new ListTagsOfResourceCommand({ ResourceArn: tableArn, NextToken: next }))))
      for (const t of page.Tags ?? []) if (t.Key !== undefined && t.Value !== undefined) tags[t.Key] = t.Value
      next = page.NextToken
    } while (next !== undefined)
    return tags
  })

/**
 * How a target knows which tables this deployment created. On AWS, by the owner tag on the table; DynamoDB
 * Local has no tagging, so locally by a list provision keeps beside its data.
 */
export interface Ownership<E, R> {
  readonly tag: OwnerTag
  readonly owns: (table: TableDescription) => Effect.Effect<boolean, E, R>
  /** Called once provision created the table. */
  readonly created: (name: string) => Effect.Effect<void, E, R>
  /** Called once teardown deleted it: a table of that name made later is not ours. */
  readonly deleted: (name: string) => Effect.Effect<void, E, R>
}

/** Ownership by the owner tag (AWS). */
export const byTag = (tag: OwnerTag): Ownership<DynamoDbError, DynamoDb> => ({
  tag,
  owns: (table) => (table.TableArn === undefined ? Effect.succeed(false) : Effect.map(tagsOf(table.TableArn), (tags) => isOwnedBy(tag, tags))),
  created: () => Effect.void,
  deleted: () => Effect.void
})

/** Tables made outside a deployment (tests, one-off setup): tagged, but never claimed as ours. */
export const unowned: Ownership<never, never> = {
  tag: { key: "dyna-elite", value: "unowned" },
  owns: () => Effect.succeed(false),
  created: () => Effect.void,
  deleted: () => Effect.void
}

/**
 * Creates the table (on-demand billing, tagged as ours) unless one of that name exists; an existing
 * table is adopted as it is and never recreated.
 */
export const decideTable = <E, R>(definition: TableDefinition, owner: Ownership<E, R>) =>
  Effect.gen(function*() {
    const existing = yield* describeTable(definition.name)
    if (existing !== undefined) {
      const ours = yield* owner.owns(existing)
      return noChange({ action: "unchanged", resource: existing.TableArn ?? definition.name, ...(ours ? {} : { detail: "adopted: it was there before provision" }) })
    }
    return change({ action: "created", resource: definition.name, detail: "on-demand" }, Effect.gen(function*() {
      const db = yield* DynamoDb
      const created = yield* db.call("CreateTable", (c) =>
        c.send(
          new CreateTableCommand({
            TableName: definition.name,
            KeySchema: [...definition.keySchema],
            AttributeDefinitions: [...definition.attributes],
            BillingMode: "PAY_PER_REQUEST",
            Tags: [{ Key: owner.tag.key, Value: owner.tag.value }]
          })
        ))
      yield* awaitActive(definition.name)
      yield* owner.created(definition.name)
      return { action: "created", resource: created.TableDescription?.TableArn ?? definition.name } satisfies Outcome
    }))
  })

/** {@link decideTable}, applied at once. */
export const ensureTable = (definition: TableDefinition, owner: Ownership<DynamoDbError, DynamoDb> = unowned) =>
  applied(decideTable(definition, owner))

/** Whether the table holds at least one item (DescribeTable's ItemCount lags by hours; a one-item Scan does not). */
const hasItems = (name: string) =>
  Effect.gen(function*() {
    const db = yield* DynamoDb
    const page = yield* Retry.onTransient(db.call("Scan", (c) => c.send(new ScanCommand({ TableName: name, Limit: 1, Select: "COUNT" }))))
    return (page.Count ?? 0) > 0
  })

/** How a table is saved before it is deleted: on AWS an on-demand backup; locally a file. Says where it went. */
export type Backup<E, R> = (table: TableDescription) => Effect.Effect<string, E, R>

/** An on-demand backup (`CreateBackup`), awaited until `AVAILABLE` (a table cannot be deleted while one is made). */
export const onDemandBackup: Backup<DynamoDbError | BackupNotReady, DynamoDb> = (table) =>
  Effect.gen(function*() {
    const db = yield* DynamoDb
    const name = table.TableName ?? ""
    const stamp = DateTime.formatIso(yield* DateTime.now).replace(/[:.]/g, "-")
    const out = yield* Retry.onTransient(db.call("CreateBackup", (c) =>
      c.send(new CreateBackupCommand({ TableName: name, BackupName: `${name}-before-teardown-${stamp}`.slice(0, 255) }))))
    const arn = out.BackupDetails?.BackupArn
    if (arn === undefined) return yield* Effect.die(new Error(`CreateBackup of ${name} answered without a BackupArn`))
    yield* Effect.gen(function*() {
      const status = (yield* Retry.onTransient(db.call("DescribeBackup", (c) => c.send(new DescribeBackupCommand({ BackupArn: arn })))))
        .BackupDescription?.BackupDetails?.BackupStatus
      if (status !== "AVAILABLE") return yield* new BackupNotReady({ backupArn: arn, status: status ?? "unknown" })
    }).pipe(Effect.retry({ schedule: Retry.resourceReady, while: (e) => e._tag === "BackupNotReady" }))
    return arn
  })

/** The backup was still not `AVAILABLE` after `Retry.resourceReady`: the table was not deleted. */
export class BackupNotReady extends Schema.TaggedError<BackupNotReady>()("BackupNotReady", {
  backupArn: Schema.String,
  status: Schema.String
}) {
  override get message() {
    return `backup ${this.backupArn} is still ${this.status}; the table was not deleted: run teardown again once it is AVAILABLE`
  }
}

export interface RemoveOptions {
  /** `--delete-data`: delete the tables this deployment created. */
  readonly deleteData: boolean
  /** `--force-delete-data`: also the tables that were there before provision (the Jam's). */
  readonly forceDeleteData: boolean
}

/**
 * Teardown's decision for one table: kept unless `--delete-data`; then deleted only if this deployment
 * created it, or with `--force-delete-data` too. A table with items is backed up first, and its deletion
 * is a risk a person agrees to.
 */
export const decideRemoveTable = <E, R, E2, R2>(
  name: string,
  owner: Ownership<E, R>,
  options: RemoveOptions,
  backup: Backup<E2, R2>
) =>
  Effect.gen(function*() {
    const table = yield* describeTable(name)
    if (table === undefined) return noChange({ action: "unchanged", resource: name, detail: "not there" })
    const resource = table.TableArn ?? name
    if (!options.deleteData) return noChange({ action: "kept", resource, detail: "pass --delete-data to delete it" })
    const ours = yield* owner.owns(table)
    if (!ours && !options.forceDeleteData) {
      return noChange({
        action: "kept",
        resource,
        detail: "it was there before provision (no owner tag of this deployment); --force-delete-data deletes it too"
      })
    }
    const items = yield* hasItems(name)
    const whose = ours ? "" : ", which provision did not create,"
    return change({
      action: "deleted",
      resource,
      detail: items ? "backed up first" : "empty",
      ...(items || !ours ? { risk: `deletes table ${name}${whose} and every item in it${items ? " (a backup is taken first)" : ""}` } : {})
    }, Effect.gen(function*() {
      const db = yield* DynamoDb
      const saved = items ? yield* backup(table) : undefined
      yield* db.call("DeleteTable", (c) => c.send(new DeleteTableCommand({ TableName: name })))
      yield* db.call("waitUntilTableNotExists", (client) => waitUntilTableNotExists({ client, maxWaitTime: 300 }, { TableName: name }))
      yield* owner.deleted(name)
      return { action: "deleted", resource, ...(saved === undefined ? {} : { detail: `backup ${saved}` }) } satisfies Outcome
    }))
  })

/** Whether a stream of that view type carries the new image the handler reads. */
export const carriesNewImage = (view: StreamViewType | undefined) => view === "NEW_IMAGE" || view === "NEW_AND_OLD_IMAGES"

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
 * again, which gives it a new ARN: every other reader of the old one loses its place, so on a table
 * provision did not create that is a risk a person agrees to.
 */
export const decideStream = <E, R>(name: string, owner: Ownership<E, R>) =>
  Effect.gen(function*() {
    const before = yield* describeTable(name)
    const spec = before?.StreamSpecification
    if (before !== undefined && spec?.StreamEnabled === true && carriesNewImage(spec.StreamViewType)) {
      return noChange({ action: "unchanged", resource: before.LatestStreamArn ?? name, detail: spec.StreamViewType })
    }
    const replacing = spec?.StreamEnabled === true
    const ours = before === undefined || (yield* owner.owns(before))
    const view = spec?.StreamViewType
    return change({
      action: replacing ? "updated" : "created",
      resource: replacing ? before?.LatestStreamArn ?? name : name,
      detail: replacing ? `view type ${view} → NEW_IMAGE: a new stream ARN` : "NEW_IMAGE",
      ...(replacing && !ours
        ? {
          risk: `replaces the ${view} stream of ${name}, which provision did not create: every other reader of it ` +
            "(another function's mapping, a Kinesis or Glue consumer) loses its place and must move to the new stream ARN"
        }
        : {})
    }, Effect.gen(function*() {
      if (replacing) yield* setStream(name, false)
      yield* setStream(name, true)
      const after = yield* describeTable(name)
      return {
        action: replacing ? "updated" : "created",
        resource: after?.LatestStreamArn ?? name,
        detail: replacing ? `view type ${view} → NEW_IMAGE` : "NEW_IMAGE"
      } satisfies Outcome
    }))
  })

/** {@link decideStream}, applied at once. */
export const ensureStream = (name: string, owner: Ownership<DynamoDbError, DynamoDb> = unowned) => applied(decideStream(name, owner))

