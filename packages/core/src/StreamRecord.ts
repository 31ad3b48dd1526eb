/**
 * One raw DynamoDB stream record → an INSERTed transaction, a skipped change, or a `MalformedRecord`
 * that names the record and the field at fault. Decoded one record at a time, so one bad record
 * never spoils its batch.
 *
 * @since 0.1.0
 */
import type { DynamoDBRecord } from "aws-lambda"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Issue from "./Issue.js"
import { Item, type Transaction } from "./Transaction.js"

/**
 * A stream sequence number: 21 to 40 decimal digits in practice; any digit string is accepted and it is
 * only ever compared as a `BigInt`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SequenceNumber = Schema.String.check(
  Schema.isPattern(/^\d{1,64}$/, { message: "must be a string of decimal digits" })
)

const AttributeMap = Schema.Record(Schema.String, Schema.Unknown)

/**
 * The parts of a stream record this project reads (a loose envelope: other fields pass untouched).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Envelope = Schema.Struct({
  eventID: Schema.optional(Schema.String),
  eventName: Schema.Literals(["INSERT", "MODIFY", "REMOVE"]),
  eventSource: Schema.optional(Schema.Literal("aws:dynamodb")),
  dynamodb: Schema.Struct({
    Keys: Schema.optional(AttributeMap),
    NewImage: Schema.optional(AttributeMap),
    SequenceNumber: Schema.optional(SequenceNumber)
  })
})

/**
 * A stream event: its records are decoded one at a time with {@link decode}, so one bad record never
 * spoils its batch.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Event = Schema.Struct({ Records: Schema.Array(Schema.Unknown) })

/**
 * A stream record that can never be applied: which record (as far as it can be told) and why.
 *
 * @since 0.1.0
 * @category errors
 */
export class MalformedRecord extends Schema.TaggedError<MalformedRecord>()("MalformedRecord", {
  sequenceNumber: Schema.optional(Schema.String),
  /** The stream the record came from (`eventSourceARN`): with the sequence number, its unique name. */
  streamArn: Schema.optional(Schema.String),
  eventId: Schema.optional(Schema.String),
  custId: Schema.optional(Schema.String),
  tnNum: Schema.optional(Schema.String),
  field: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `stream record ${this.sequenceNumber ?? this.eventId ?? "(no SequenceNumber)"} is malformed: ${this.reason}`
  }
}

/**
 * A decoded INSERT.
 *
 * @since 0.1.0
 * @category models
 */
export interface Insert {
  readonly _tag: "Insert"
  readonly transaction: Transaction
}

/**
 * A MODIFY or REMOVE: not a new purchase, so not counted.
 *
 * @since 0.1.0
 * @category models
 */
export interface Skipped {
  readonly _tag: "Skipped"
  readonly eventName: "MODIFY" | "REMOVE"
  readonly sequenceNumber: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export type Change = Insert | Skipped

const decodeEnvelope = Schema.decodeUnknownResult(Envelope)
const decodeImage = Schema.decodeUnknownResult(Item)

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === "object" && u !== null

const stringAt = (u: unknown, ...path: ReadonlyArray<string>): string | undefined => {
  let at = u
  for (const key of path) at = isRecord(at) ? at[key] : undefined
  return typeof at === "string" ? at : undefined
}

/**
 * What can be told of a record, decoded or not: the ids that name it and the keys of its row, each
 * only when it is a string. The quarantine keys a record by these; replay finds its row by them.
 *
 * @since 0.1.0
 * @category models
 */
export interface Identity {
  readonly sequenceNumber: string | undefined
  readonly streamArn: string | undefined
  readonly eventId: string | undefined
  readonly custId: string | undefined
  readonly tnNum: string | undefined
}

/**
 * What can be told of any raw record (even one that fails to decode), so an error still names it.
 *
 * @since 0.1.0
 * @category decoding
 */
export const identify = (raw: unknown): Identity => {
  const image = (name: string, type: "S" | "N") =>
    stringAt(raw, "dynamodb", "NewImage", name, type) ?? stringAt(raw, "dynamodb", "Keys", name, type)
  return {
    sequenceNumber: stringAt(raw, "dynamodb", "SequenceNumber"),
    streamArn: stringAt(raw, "eventSourceARN"),
    eventId: stringAt(raw, "eventID"),
    custId: image("CustID", "S"),
    tnNum: image("TnNum", "N")
  }
}

/** How much of a wrong value a reason quotes: enough to recognise it, never a whole 400 KB image. */
const MAX_QUOTED = 64

/** The value a reason says it got, as JSON, cut to {@link MAX_QUOTED} characters. */
const quote = (value: unknown): string => {
  const json = value === undefined ? "undefined" : (JSON.stringify(value) ?? String(value))
  return json.length <= MAX_QUOTED ? json : `${json.slice(0, MAX_QUOTED)}… (${json.length} characters)`
}

/** The value at a problem's dotted path, when there is one to quote. */
const valueAt = (root: unknown, field: string): { readonly found: boolean; readonly value?: unknown } => {
  if (field === "(record)") return { found: true, value: root }
  let at = root
  for (const key of field.split(".")) {
    if (!isRecord(at) || !(key in at)) return { found: false }
    at = at[key]
  }
  return { found: true, value: at }
}

/** Schema's `Expected "A" | "B" | undefined` as a person would say it: `expected A | B`. */
const readable = (message: string): string =>
  message === "Missing key"
    ? "is missing"
    : message.startsWith("Expected ")
    ? `expected ${message.slice("Expected ".length).replace(/ \| undefined$/, "").replace(/"([^"|]*)"/g, "$1")}`
    : message

/**
 * A record's first problem as `field: what is wrong, got <value>`; `root` is what the field's path is
 * relative to (the record, or the image read from it). A missing field has no value to name.
 */
const malformed = (raw: unknown, root: unknown = raw) => (error: Schema.SchemaError): MalformedRecord => {
  const problem = Issue.first(error.issue)
  const message = readable(problem.message)
  const got = valueAt(root, problem.field)
  const reason = message === "is missing" || !got.found ? `${problem.field}: ${message}` : `${problem.field}: ${message}, got ${quote(got.value)}`
  return new MalformedRecord({ ...identify(raw), field: problem.field, reason })
}

/**
 * Decodes one raw stream record. MODIFY and REMOVE are `Skipped` without looking at their images.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (raw: unknown): Result.Result<Change, MalformedRecord> =>
  decodeEnvelope(raw).pipe(
    Result.mapError(malformed(raw)),
    Result.flatMap(({ dynamodb: d, eventName }): Result.Result<Change, MalformedRecord> => {
      if (eventName !== "INSERT") return Result.succeed({ _tag: "Skipped", eventName, sequenceNumber: d.SequenceNumber })
      // NewImage merged over Keys: the Jam's acceptance event carries TnValue in Keys and has no NewImage.
      const image = { ...d.Keys, ...d.NewImage }
      return decodeImage(image).pipe(
        Result.mapError(malformed(raw, image)),
        Result.map((image) => ({
          _tag: "Insert",
          transaction: {
            custId: image.CustID.S,
            tnNum: image.TnNum?.N,
            tnValue: image.TnValue.N,
            sequenceNumber: d.SequenceNumber
          }
        }))
      )
    })
  )

/**
 * A record in the shape `@types/aws-lambda` gives it, for code that builds events.
 *
 * @since 0.1.0
 * @category models
 */
export type Raw = DynamoDBRecord
