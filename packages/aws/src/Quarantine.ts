/**
 * The quarantine: stream records that can never be applied, kept with their reason in a table an
 * operator can list and replay from, so a bad record is set aside instead of dropped or retried forever.
 * An item keeps what finds and replays the record (its ids, its row's keys, the reason, a bounded
 * excerpt of it) and expires after `QUARANTINE_DAYS` (DynamoDB's TTL on `ExpiresAt`).
 */
import { type AttributeValue, DeleteItemCommand, PutItemCommand, ScanCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb"
import * as StreamRecord from "@dyna/core/StreamRecord"
import { Buffer } from "node:buffer"
import { createHash } from "node:crypto"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { capacityUnits, DynamoDb, type DynamoDbError } from "./DynamoDb.js"
import * as Pages from "./Pages.js"
import * as Environment from "./Environment.js"
import * as Retry from "./Retry.js"
import { Tables } from "./Tables.js"

/** Why a record was set aside, and what could be told of it. `MalformedRecord` is one. */
export interface Rejection {
  readonly sequenceNumber?: string | undefined
  readonly streamArn?: string | undefined
  readonly eventId?: string | undefined
  readonly custId?: string | undefined
  readonly tnNum?: string | undefined
  readonly field: string
  readonly reason: string
}

/** What `put` did: stored the record now, or found it stored by an earlier delivery; and the write units it took. */
export interface Stored {
  readonly outcome: "quarantined" | "already"
  /** What DynamoDB reported for the put that stored it (a refused conditional put reports none). */
  readonly writeUnits: number
}

/** A value the quarantine kept only the start of: which one, how long it was, and how much is kept (UTF-8 bytes). */
export interface Cut {
  readonly field: string
  /** `undefined` on items from before cuts were measured. */
  readonly bytes: number | undefined
  readonly kept: number
}

/** One quarantined record, as `list` returns it. */
export interface Rejected extends Rejection {
  readonly recordId: string
  readonly rejectedAt: string
  /** The record as JSON, or its first {@link MAX_EXCERPT_BYTES} bytes (then `cut` says so). */
  readonly rawRecord: string
  /** When DynamoDB's TTL may delete the item (ISO 8601); absent on items from before TTLs. */
  readonly expiresAt: string | undefined
  /** What was kept only in part. */
  readonly cut: ReadonlyArray<Cut>
}

/**
 * How much of a record an item keeps, in UTF-8 bytes: a real CustTransactions stream record is well
 * under 1 KB, so it is kept whole; a foreign or hostile one (400 KB of image) keeps its start. The
 * item's ids and reason find the record; replay reads its row from CustTransactions, not from here.
 */
export const MAX_EXCERPT_BYTES = 8_192

/** What each id keeps, in UTF-8 bytes: DynamoDB's limit on a key, so a CustID that can key a row is kept whole. */
const MAX_ID_BYTES = 2_048

/** The reason and field are ours, and short (a reason quotes at most 64 characters of a value). */
const MAX_TEXT_BYTES = 4_096

/** How long an item is kept by default, in days. */
export const DEFAULT_DAYS = 30

/** `QUARANTINE_DAYS`: how long DynamoDB keeps a quarantined record (1 to 3,650 days; default 30). */
export const days = Environment.decode(Schema.Struct({
  QUARANTINE_DAYS: Schema.FiniteFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: 3_650 })).pipe(
    Schema.withDecodingDefault(Effect.succeed(String(DEFAULT_DAYS)))
  )
})).pipe(Effect.map((settings) => settings.QUARANTINE_DAYS))

/** The attribute DynamoDB's TTL reads (epoch seconds); provision/TimeToLive.ts enables it on the table. */
export const TTL_ATTRIBUTE = "ExpiresAt"

/**
 * `s` cut to at most `maxBytes` bytes in UTF-8, at a character boundary (a character that would be cut
 * in two is left out whole), and its length in bytes.
 */
const clip = (s: string, maxBytes: number): { readonly kept: string; readonly bytes: number } => {
  if (s.length * 3 <= maxBytes) return { kept: s, bytes: Buffer.byteLength(s, "utf8") }
  const bytes = Buffer.from(s, "utf8")
  if (bytes.length <= maxBytes) return { kept: s, bytes: bytes.length }
  let end = maxBytes
  // A byte 10xxxxxx continues a character: back up to the byte that starts it.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--
  return { kept: bytes.subarray(0, end).toString("utf8"), bytes: bytes.length }
}

const toJson = (raw: unknown): string => {
  try {
    return JSON.stringify(raw) ?? String(raw)
  } catch {
    return String(raw)
  }
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex")

/** The key of a record the quarantine cannot name by stream and sequence number: a digest of its JSON. */
const digestKey = (digest: string) => `sha256:${digest}`

/**
 * A record's quarantine key: its stream and sequence number (`<eventSourceARN>#<SequenceNumber>`), which
 * name one stream record and no other; else a digest of the record itself. A redelivered record lands on
 * the same item. A record without a stream (hand-made, or a sample event) is keyed by its content: two
 * different ones sharing a sequence number are two items.
 */
export const recordIdOf = (raw: unknown, rawJson: string = toJson(raw)): string => {
  const { streamArn, sequenceNumber } = StreamRecord.identify(raw)
  const named = streamArn === undefined || streamArn === "" || sequenceNumber === undefined || sequenceNumber === ""
    ? undefined
    : `${streamArn}#${sequenceNumber}`
  return named !== undefined && Buffer.byteLength(named, "utf8") <= MAX_ID_BYTES ? named : digestKey(sha256(rawJson))
}

/** What a refused conditional put says the item already there holds (asked with `ReturnValuesOnConditionCheckFailure`). */
const StoredDigest = Schema.Struct({ Item: Schema.Struct({ RawDigest: Schema.Struct({ S: Schema.String }) }) })
const storedDigest = Schema.decodeUnknownOption(StoredDigest)

const NumberAttribute = Schema.Struct({ N: Schema.FiniteFromString })
const StoredCut = Schema.Struct({ M: Schema.Struct({ Field: Schema.Struct({ S: Schema.String }), Bytes: NumberAttribute, Kept: NumberAttribute }) })
const decodeCuts = Schema.decodeUnknownOption(Schema.Struct({ L: Schema.Array(StoredCut) }))

/** One stored item as `list` returns it; a missing text attribute reads as empty, a missing id as absent. */
const rejectedOf = (item: Pages.Item): Rejected => {
  const s = (name: string) => item[name]?.S
  const expires = Number(item[TTL_ATTRIBUTE]?.N)
  const cut = Option.match(decodeCuts(item.Cut), {
    onNone: (): Array<Cut> => (item.RawTruncated?.BOOL === true ? [{ field: "rawRecord", bytes: undefined, kept: 300_000 }] : []),
    onSome: ({ L }) => L.map(({ M }) => ({ field: M.Field.S, bytes: M.Bytes.N, kept: M.Kept.N }))
  })
  return {
    recordId: s("RecordId") ?? "",
    rejectedAt: s("RejectedAt") ?? "",
    expiresAt: Number.isFinite(expires) ? new Date(expires * 1000).toISOString() : undefined,
    rawRecord: s("RawRecord") ?? "",
    cut,
    field: s("Field") ?? "",
    reason: s("Reason") ?? "",
    sequenceNumber: s("SequenceNumber"),
    streamArn: s("StreamArn"),
    eventId: s("EventID"),
    custId: s("CustID"),
    tnNum: s("TnNum")
  }
}

const already: Stored = { outcome: "already", writeUnits: 0 }

/** CustTransactionsRejected: where a record that can never be applied is kept with its reason, so the batch can go on. */
export class Quarantine extends Context.Service<Quarantine, {
  /**
   * Sets one record aside; its outcome is `"already"` when an earlier delivery did. Only a record stored
   * now is `"quarantined"`: a second, different record under the same stream and sequence number is
   * stored under its digest instead of being lost. The function needs only PutItem for it.
   */
  readonly put: (rejection: Rejection, raw: unknown) => Effect.Effect<Stored, DynamoDbError>
  /** Every quarantined record, oldest first. */
  readonly list: () => Effect.Effect<ReadonlyArray<Rejected>, DynamoDbError>
  /** Says why a record still cannot be applied (replay); `"gone"` when it is no longer there. Operator only. */
  readonly restate: (recordId: string, field: string, reason: string) => Effect.Effect<"restated" | "gone", DynamoDbError>
  /** Takes a replayed record out. Operator only: the function's role has no DeleteItem on the table. */
  readonly remove: (recordId: string) => Effect.Effect<void, DynamoDbError>
}>()("dyna-elite/aws/Quarantine") {
  /** Over whatever `DynamoDb` and `Tables` it is given: the handler's AppLayer wires them once, tests give DynamoDB Local's. */
  static readonly layerNoDeps = Layer.effect(
    Quarantine,
    Effect.gen(function*() {
      const db = yield* DynamoDb
      const tables = yield* Tables
      const keepDays = yield* days

      const put = Effect.fnUntraced(function*(rejection: Rejection, raw: unknown) {
        const json = toJson(raw)
        const digest = sha256(json)
        const now = yield* Clock.currentTimeMillis
        const cuts: Array<Cut> = []
        const kept = (field: string, value: string, maxBytes: number) => {
          const c = clip(value, maxBytes)
          if (c.kept !== value) cuts.push({ field, bytes: c.bytes, kept: Buffer.byteLength(c.kept, "utf8") })
          return c.kept
        }
        const optional: Record<string, AttributeValue> = {}
        for (const [name, field, value] of [
          ["SequenceNumber", "sequenceNumber", rejection.sequenceNumber],
          ["StreamArn", "streamArn", rejection.streamArn],
          ["EventID", "eventId", rejection.eventId],
          ["CustID", "custId", rejection.custId],
          ["TnNum", "tnNum", rejection.tnNum]
        ] as const) if (value !== undefined) optional[name] = { S: kept(field, value, MAX_ID_BYTES) }
        const attributes = {
          Field: { S: kept("field", rejection.field, MAX_TEXT_BYTES) },
          Reason: { S: kept("reason", rejection.reason, MAX_TEXT_BYTES) },
          RejectedAt: { S: new Date(now).toISOString() },
          [TTL_ATTRIBUTE]: { N: String(Math.floor(now / 1000) + keepDays * 86_400) },
          RawRecord: { S: kept("rawRecord", json, MAX_EXCERPT_BYTES) },
          RawDigest: { S: digest },
          ...optional
        }
        const item = cuts.length === 0 ? attributes : {
          ...attributes,
          Cut: { L: cuts.map((c) => ({ M: { Field: { S: c.field }, Bytes: { N: String(c.bytes ?? 0) }, Kept: { N: String(c.kept) } } })) }
        }

        /** Puts the item under `recordId` unless one is there; then tells a redelivery from a different record. */
        const putUnder = (recordId: string): Effect.Effect<Stored, DynamoDbError> =>
          Retry.onTransient(db.call("PutItem", (c) =>
            c.send(
              new PutItemCommand({
                TableName: tables.rejected,
                Item: { RecordId: { S: recordId }, ...item },
                // The first rejection's time and reason stand; a redelivery adds nothing.
                ConditionExpression: "attribute_not_exists(RecordId)",
                ReturnValuesOnConditionCheckFailure: "ALL_OLD",
                ReturnConsumedCapacity: "TOTAL"
              })
            ))).pipe(
              Effect.map((out): Stored => ({ outcome: "quarantined", writeUnits: capacityUnits(out.ConsumedCapacity) })),
              Effect.catchTag("DynamoDbError", (e) => {
                if (e.kind !== "ConditionFailed") return Effect.fail(e)
                const stored = storedDigest(e.cause)
                // An item from before digests were stored, or this very record: it is already here.
                if (Option.isNone(stored) || stored.value.Item.RawDigest.S === digest) return Effect.succeed(already)
                const byContent = digestKey(digest)
                return recordId === byContent ? Effect.succeed(already) : putUnder(byContent)
              })
            )
        return yield* putUnder(recordIdOf(raw, json))
      })

      const list = Effect.fnUntraced(function*() {
        const items = yield* Pages.all((startKey) =>
          Retry.onTransient(db.call("Scan", (c) =>
            c.send(new ScanCommand({ TableName: tables.rejected, ExclusiveStartKey: startKey, ConsistentRead: true })))))
        return items.map(rejectedOf).sort((a, b) => a.rejectedAt.localeCompare(b.rejectedAt))
      })

      const restate = Effect.fnUntraced(function*(recordId: string, field: string, reason: string) {
        const at = new Date(yield* Clock.currentTimeMillis).toISOString()
        return yield* Retry.onTransient(db.call("UpdateItem", (c) =>
          c.send(
            new UpdateItemCommand({
              TableName: tables.rejected,
              Key: { RecordId: { S: recordId } },
              UpdateExpression: "SET Field = :f, Reason = :r, RestatedAt = :at",
              ConditionExpression: "attribute_exists(RecordId)",
              ExpressionAttributeValues: {
                ":f": { S: clip(field, MAX_TEXT_BYTES).kept },
                ":r": { S: clip(reason, MAX_TEXT_BYTES).kept },
                ":at": { S: at }
              }
            })
          ))).pipe(
            Effect.as("restated" as const),
            Effect.catchTag("DynamoDbError", (e) => e.kind === "ConditionFailed" ? Effect.succeed("gone" as const) : Effect.fail(e))
          )
      })

      const remove = Effect.fnUntraced(function*(recordId: string) {
        yield* Retry.onTransient(db.call("DeleteItem", (c) =>
          c.send(new DeleteItemCommand({ TableName: tables.rejected, Key: { RecordId: { S: recordId } } }))))
      })

      return Quarantine.of({ put, list, restate, remove })
    })
  )

  /** Complete, its client and table names from the environment, for a script or test that wants this one service alone. */
  static readonly layer = Quarantine.layerNoDeps.pipe(Layer.provide(Layer.mergeAll(DynamoDb.layer, Tables.layer)))
}
