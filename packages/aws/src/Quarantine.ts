/**
 * The quarantine: stream records that can never be applied, kept with their reason in a table an
 * operator can list, so a bad record is set aside instead of dropped or retried forever.
 */
import { type AttributeValue, PutItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb"
import { Buffer } from "node:buffer"
import { createHash } from "node:crypto"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { DynamoDb, type DynamoDbError } from "./DynamoDb.js"
import * as Retry from "./Retry.js"
import { Tables } from "./Tables.js"

/** Why a record was set aside, and what could be told of it. `MalformedRecord` is one. */
export interface Rejection {
  readonly sequenceNumber?: string | undefined
  readonly eventId?: string | undefined
  readonly custId?: string | undefined
  readonly tnNum?: string | undefined
  readonly field: string
  readonly reason: string
}

/** One quarantined record, as `list` returns it. */
export interface Rejected extends Rejection {
  readonly recordId: string
  readonly rejectedAt: string
  readonly rawRecord: string
}

/** DynamoDB items stop at 400 KB; the raw record is cut well below that, in UTF-8 bytes, and says so. */
const MAX_RAW_BYTES = 300_000

/**
 * What each identifying attribute keeps, in UTF-8 bytes: a malformed record's ids and CustID are as long
 * as its sender made them, and a key stops at 2,048 bytes. The raw record keeps them whole, up to its cut.
 */
const MAX_ID_BYTES = 1_024

/** The reason and field are ours, and short; a cap keeps the item under 400 KB whatever they quote. */
const MAX_TEXT_BYTES = 4_096

/** The first `maxBytes` bytes of `s` in UTF-8 (a character cut in two ends as U+FFFD). */
const clip = (s: string, maxBytes: number): string => {
  if (s.length * 3 <= maxBytes) return s
  const bytes = Buffer.from(s, "utf8")
  return bytes.length <= maxBytes ? s : bytes.subarray(0, maxBytes).toString("utf8")
}

/** An id that can key the quarantine: not empty, and short enough for a DynamoDB key. */
const usableId = (id: string | undefined): id is string => id !== undefined && id !== "" && Buffer.byteLength(id, "utf8") <= MAX_ID_BYTES

const toJson = (raw: unknown): string => {
  try {
    return JSON.stringify(raw) ?? String(raw)
  } catch {
    return String(raw)
  }
}

/**
 * A record's quarantine key: its sequence number, else its event id, else a hash of its content, so a
 * redelivered bad record lands on the same item instead of a second one. An id that is empty or too
 * long for a key (a malformed record's can be either) is passed over.
 */
export const recordIdOf = (rejection: Rejection, rawJson: string): string =>
  [rejection.sequenceNumber, rejection.eventId].find(usableId) ?? `sha256:${createHash("sha256").update(rawJson).digest("hex")}`


export class Quarantine extends Context.Service<Quarantine, {
  /** Sets one record aside; `"already"` when an earlier delivery did. */
  readonly put: (rejection: Rejection, raw: unknown) => Effect.Effect<"quarantined" | "already", DynamoDbError>
  /** Every quarantined record, oldest first. */
  readonly list: () => Effect.Effect<ReadonlyArray<Rejected>, DynamoDbError>
}>()("dyna-elite/aws/Quarantine") {
  static readonly layerNoDeps = Layer.effect(
    Quarantine,
    Effect.gen(function*() {
      const db = yield* DynamoDb
      const tables = yield* Tables

      const put = Effect.fn("Quarantine.put")(function*(rejection: Rejection, raw: unknown) {
        const json = toJson(raw)
        const recordId = recordIdOf(rejection, json)
        const rejectedAt = DateTime.formatIso(yield* DateTime.now)
        const optional: Record<string, { S: string }> = {}
        for (const [name, value] of [
          ["SequenceNumber", rejection.sequenceNumber],
          ["EventID", rejection.eventId],
          ["CustID", rejection.custId],
          ["TnNum", rejection.tnNum]
        ] as const) if (value !== undefined) optional[name] = { S: clip(value, MAX_ID_BYTES) }
        const kept = clip(json, MAX_RAW_BYTES)
        return yield* Retry.onTransient(db.call("PutItem", (c) =>
          c.send(
            new PutItemCommand({
              TableName: tables.rejected,
              Item: {
                RecordId: { S: recordId },
                Field: { S: clip(rejection.field, MAX_TEXT_BYTES) },
                Reason: { S: clip(rejection.reason, MAX_TEXT_BYTES) },
                RejectedAt: { S: rejectedAt },
                RawRecord: { S: kept },
                ...(kept !== json ? { RawTruncated: { BOOL: true } } : {}),
                ...optional
              },
              // The first rejection's time and reason stand; a redelivery adds nothing.
              ConditionExpression: "attribute_not_exists(RecordId)"
            })
          ))).pipe(
            Effect.as("quarantined" as const),
            Effect.catchTag("DynamoDbError", (e) => e.kind === "ConditionFailed" ? Effect.succeed("already" as const) : Effect.fail(e))
          )
      })

      const list = Effect.fn("Quarantine.list")(function*() {
        const items: Array<Rejected> = []
        let startKey: Record<string, AttributeValue> | undefined
        do {
          const page = yield* Retry.onTransient(db.call("Scan", (c) =>
            c.send(new ScanCommand({ TableName: tables.rejected, ExclusiveStartKey: startKey }))))
          for (const item of page.Items ?? []) {
            const s = (name: string) => item[name]?.S
            items.push({
              recordId: s("RecordId") ?? "",
              rejectedAt: s("RejectedAt") ?? "",
              rawRecord: s("RawRecord") ?? "",
              field: s("Field") ?? "",
              reason: s("Reason") ?? "",
              sequenceNumber: s("SequenceNumber"),
              eventId: s("EventID"),
              custId: s("CustID"),
              tnNum: s("TnNum")
            })
          }
          startKey = page.LastEvaluatedKey
        } while (startKey !== undefined)
        return items.sort((a, b) => a.rejectedAt.localeCompare(b.rejectedAt))
      })

      return Quarantine.of({ put, list })
    })
  )

  static readonly layer = Quarantine.layerNoDeps.pipe(Layer.provide(Layer.mergeAll(DynamoDb.layer, Tables.layer)))
}
