/**
 * Malformed stream input, one entry per kind, each with the outcome the handler documents for it:
 * quarantined (the field at fault and a reason a person can read), skipped (MODIFY/REMOVE), a repeat
 * counted once, or nothing to do. Used by the reliability suite; each kind is fed to the real handler.
 */
import * as Events from "@dyna/core/Events"

/** What the handler must do with a kind, as README "What the handler does" says. */
export type Outcome =
  /** Set aside in CustTransactionsRejected; `field` is the Field stored, `reason` a part of the Reason. */
  | { readonly _tag: "Quarantined"; readonly field: string; readonly reason: string }
  /** A MODIFY or REMOVE: not a purchase, passed over and counted as skipped. */
  | { readonly _tag: "Skipped" }
  /** A second copy of a transaction already in the batch: counted once, the copy is a duplicate. */
  | { readonly _tag: "Repeat" }
  /** An event with nothing in it: nothing applied, nothing set aside. */
  | { readonly _tag: "Nothing" }
  /** Not malformed after all: every record of the kind is counted (a documented edge, kept for contrast). */
  | { readonly _tag: "Counted" }

export interface Kind {
  readonly name: string
  /**
   * The bad records, placed between two good ones of the batch's own customer: `seq` is a fresh
   * sequence number the kind may use; `custId` is that customer (for kinds whose records are otherwise good).
   * Absent for kinds that are a whole event ({@link Kind.event}).
   */
  readonly records?: (seq: string, custId: string) => ReadonlyArray<unknown>
  /** A whole event handed to the handler instead of a batch. */
  readonly event?: unknown
  readonly outcome: Outcome
  /** Dollars the kind's records add to its customer: those of a Repeat's first copy, or of a Counted kind. */
  readonly dollars?: number
}

/** Past DynamoDB's 400 KB item limit on its own. */
export const BIG = 400 * 1024

const quarantined = (field: string, reason: string): Outcome => ({ _tag: "Quarantined", field, reason })

/** The fields whose value is not `undefined`: an `undefined` part removes that field. */
const defined = (fields: Record<string, unknown>) => Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined))

/** A well-formed INSERT record with parts replaced: `image` replaces NewImage, `top` the top-level fields. */
const insert = (
  seq: string,
  image: Record<string, unknown> | undefined,
  top: Record<string, unknown> = {},
  dynamodb: Record<string, unknown> = {}
) => ({
  ...defined({ eventID: `ev-${seq}`, eventName: "INSERT", eventVersion: "1.1", eventSource: "aws:dynamodb", awsRegion: "us-east-1", ...top }),
  dynamodb: defined({
    ...(image === undefined ? {} : { NewImage: image }),
    StreamViewType: "NEW_IMAGE",
    SequenceNumber: seq,
    ...dynamodb
  })
})

/** An image of a good transaction for `custId`, with fields replaced or removed (`undefined`). */
const image = (custId: string, tnNum: string, parts: Record<string, unknown> = {}) => {
  return defined({ CustID: { S: custId }, TnNum: { N: tnNum }, TnValue: { N: "7" }, ...parts })
}

const tnValue = (seq: string, custId: string, value: unknown) => [insert(seq, image(custId, "900", { TnValue: value }))]

export const kinds: ReadonlyArray<Kind> = [
  // The event itself.
  { name: "event without Records", event: { hello: "world" }, outcome: quarantined("Records", "no Records array") },
  { name: "event with an empty Records array", event: { Records: [] }, outcome: { _tag: "Nothing" } },
  { name: "event whose Records is not an array", event: { Records: "INSERT" }, outcome: quarantined("Records", "no Records array") },
  { name: "event is null", event: null, outcome: quarantined("Records", "no Records array") },
  { name: "event is a number", event: 42, outcome: quarantined("Records", "no Records array") },
  { name: "event is a string", event: "x", outcome: quarantined("Records", "no Records array") },
  { name: "event is an array", event: [], outcome: quarantined("Records", "no Records array") },

  // The record's envelope.
  { name: "record is a string", records: () => ["INSERT"], outcome: quarantined("(record)", "expected object, got") },
  { name: "record is a number", records: () => [42], outcome: quarantined("(record)", "expected object, got") },
  { name: "record is null", records: () => [null], outcome: quarantined("(record)", "expected object, got") },
  { name: "record is an array", records: () => [[]], outcome: quarantined("(record)", "expected object, got") },
  { name: "eventName missing", records: (seq, c) => [insert(seq, image(c, "900"), { eventName: undefined })], outcome: quarantined("eventName", "is missing") },
  { name: "unknown eventName", records: (seq, c) => [insert(seq, image(c, "900"), { eventName: "UPSERT" })], outcome: quarantined("eventName", "expected INSERT | MODIFY | REMOVE, got") },
  { name: "eventName in lower case", records: (seq, c) => [insert(seq, image(c, "900"), { eventName: "insert" })], outcome: quarantined("eventName", "expected INSERT | MODIFY | REMOVE, got") },
  { name: "unknown eventSource", records: (seq, c) => [insert(seq, image(c, "900"), { eventSource: "aws:kinesis" })], outcome: quarantined("eventSource", "expected aws:dynamodb, got") },
  { name: "dynamodb missing", records: (seq) => [{ eventID: `ev-${seq}`, eventName: "INSERT", eventSource: "aws:dynamodb" }], outcome: quarantined("dynamodb", "is missing") },
  { name: "dynamodb is a string", records: (seq) => [{ eventID: `ev-${seq}`, eventName: "INSERT", eventSource: "aws:dynamodb", dynamodb: "{}" }], outcome: quarantined("dynamodb", "expected object, got") },
  { name: "SequenceNumber not digits", records: (seq, c) => [insert(seq, image(c, "900"), {}, { SequenceNumber: `x${seq}` })], outcome: quarantined("dynamodb.SequenceNumber", "decimal digits") },
  { name: "SequenceNumber as a number", records: (seq, c) => [insert(seq, image(c, "900"), {}, { SequenceNumber: 12345 })], outcome: quarantined("dynamodb.SequenceNumber", "expected string, got") },
  { name: "SequenceNumber empty", records: (seq, c) => [insert(seq, image(c, "900"), {}, { SequenceNumber: "" })], outcome: quarantined("dynamodb.SequenceNumber", "decimal digits") },
  { name: "SequenceNumber of 65 digits", records: (seq, c) => [insert(seq, image(c, "900"), {}, { SequenceNumber: "1".repeat(65) })], outcome: quarantined("dynamodb.SequenceNumber", "decimal digits") },
  { name: "SequenceNumber of 400 KB", records: (seq, c) => [insert(seq, image(c, "900"), {}, { SequenceNumber: "x".repeat(BIG) })], outcome: quarantined("dynamodb.SequenceNumber", "decimal digits") },
  {
    name: "eventID empty, no SequenceNumber",
    records: (seq, c) => [insert(seq, image(c, "900", { TnValue: { N: "1.5" } }), { eventID: "" }, { SequenceNumber: undefined })],
    outcome: quarantined("TnValue.N", "whole number of dollars")
  },
  {
    name: "eventID of 400 KB, no SequenceNumber",
    records: (seq, c) => [insert(seq, image(c, "900", { TnValue: { N: "1.5" } }), { eventID: "e".repeat(BIG) }, { SequenceNumber: undefined })],
    outcome: quarantined("TnValue.N", "whole number of dollars")
  },
  { name: "NewImage is null", records: (seq) => [insert(seq, undefined, {}, { NewImage: null })], outcome: quarantined("dynamodb.NewImage", "expected object, got") },
  { name: "neither Keys nor NewImage", records: (seq) => [insert(seq, undefined)], outcome: quarantined("CustID", "is missing") },
  {
    name: "KEYS_ONLY stream record (no TnValue)",
    records: (seq, c) => [insert(seq, undefined, {}, { Keys: { CustID: { S: c }, TnNum: { N: "900" } }, StreamViewType: "KEYS_ONLY" })],
    outcome: quarantined("TnValue", "is missing")
  },

  // The image's fields.
  { name: "CustID missing", records: (seq, c) => [insert(seq, image(c, "900", { CustID: undefined }))], outcome: quarantined("CustID", "is missing") },
  { name: "CustID empty", records: (seq, c) => [insert(seq, image(c, "900", { CustID: { S: "" } }))], outcome: quarantined("CustID.S", "non-empty") },
  { name: "CustID as N", records: (seq, c) => [insert(seq, image(c, "900", { CustID: { N: "17" } }))], outcome: quarantined("CustID.S", "is missing") },
  { name: "CustID.S a number", records: (seq, c) => [insert(seq, image(c, "900", { CustID: { S: 17 } }))], outcome: quarantined("CustID.S", "expected string, got") },
  { name: "CustID NULL", records: (seq, c) => [insert(seq, image(c, "900", { CustID: { NULL: true } }))], outcome: quarantined("CustID.S", "is missing") },
  { name: "CustID of 400 KB", records: (seq) => [insert(seq, image("c".repeat(BIG), "900"))], outcome: quarantined("CustID.S", "at most 2048 bytes") },
  { name: "CustID of 2,049 bytes", records: (seq) => [insert(seq, image("é".repeat(1024) + "c", "900"))], outcome: quarantined("CustID.S", "at most 2048 bytes") },
  { name: "CustID of 400 KB of multi-byte characters", records: (seq) => [insert(seq, image("€".repeat(BIG / 3), "900"))], outcome: quarantined("CustID.S", "at most 2048 bytes") },
  { name: "TnValue missing", records: (seq, c) => [insert(seq, image(c, "900", { TnValue: undefined }))], outcome: quarantined("TnValue", "is missing") },
  { name: "TnValue as S", records: (seq, c) => tnValue(seq, c, { S: "12" }), outcome: quarantined("TnValue.N", "is missing") },
  { name: "TnValue as S of 400 KB of multi-byte characters", records: (seq, c) => tnValue(seq, c, { S: "€".repeat(BIG / 3) }), outcome: quarantined("TnValue.N", "is missing") },
  { name: "TnValue.N a JSON number", records: (seq, c) => tnValue(seq, c, { N: 12 }), outcome: quarantined("TnValue.N", "expected string, got") },
  { name: "TnValue not a number", records: (seq, c) => tnValue(seq, c, { N: "abc" }), outcome: quarantined("TnValue.N", "whole number of dollars") },
  { name: "TnValue empty", records: (seq, c) => tnValue(seq, c, { N: "" }), outcome: quarantined("TnValue.N", "whole number of dollars") },
  { name: "TnValue a float", records: (seq, c) => tnValue(seq, c, { N: "12.5" }), outcome: quarantined("TnValue.N", "whole number of dollars") },
  { name: "TnValue NaN", records: (seq, c) => tnValue(seq, c, { N: "NaN" }), outcome: quarantined("TnValue.N", "whole number of dollars") },
  { name: "TnValue Infinity", records: (seq, c) => tnValue(seq, c, { N: "Infinity" }), outcome: quarantined("TnValue.N", "whole number of dollars") },
  { name: "TnValue -Infinity", records: (seq, c) => tnValue(seq, c, { N: "-Infinity" }), outcome: quarantined("TnValue.N", "whole number of dollars") },
  { name: "TnValue in exponent form", records: (seq, c) => tnValue(seq, c, { N: "1e3" }), outcome: quarantined("TnValue.N", "whole number of dollars") },
  { name: "TnValue with spaces", records: (seq, c) => tnValue(seq, c, { N: " 12" }), outcome: quarantined("TnValue.N", "whole number of dollars") },
  { name: "TnValue negative", records: (seq, c) => tnValue(seq, c, { N: "-5" }), outcome: quarantined("TnValue.N", "must not be negative") },
  { name: "TnValue 2^53 + 1", records: (seq, c) => tnValue(seq, c, { N: "9007199254740993" }), outcome: quarantined("TnValue.N", "too large") },
  { name: "TnValue of 400 KB of digits", records: (seq, c) => tnValue(seq, c, { N: "9".repeat(BIG) }), outcome: quarantined("TnValue.N", "too large") },
  { name: "TnNum not an integer", records: (seq, c) => [insert(seq, image(c, "1.5"))], outcome: quarantined("TnNum.N", "must be an integer") },
  { name: "TnNum as S", records: (seq, c) => [insert(seq, image(c, "900", { TnNum: { S: "900" } }))], outcome: quarantined("TnNum.N", "is missing") },
  { name: "TnNum of 39 significant digits", records: (seq, c) => [insert(seq, image(c, "1".repeat(39)))], outcome: quarantined("TnNum.N", "38 significant digits") },
  { name: "TnNum of 400 KB of digits", records: (seq, c) => [insert(seq, image(c, "9".repeat(BIG)))], outcome: quarantined("TnNum.N", "38 significant digits") },

  // Changes that are not purchases, and repeats.
  { name: "MODIFY", records: (seq, c) => [Events.change("MODIFY", { custId: c, tnNum: 1, tnValue: 5000, sequenceNumber: seq })], outcome: { _tag: "Skipped" } },
  { name: "REMOVE", records: (seq, c) => [Events.change("REMOVE", { custId: c, tnNum: 1, tnValue: 5000, sequenceNumber: seq })], outcome: { _tag: "Skipped" } },
  {
    name: "MODIFY with an unreadable image",
    records: (seq, c) => [insert(seq, image(c, "900", { TnValue: { N: "NaN" } }), { eventName: "MODIFY" })],
    outcome: { _tag: "Skipped" }
  },
  {
    name: "duplicated sequence number (same record twice)",
    records: (seq, c) => {
      const record = Events.insert({ custId: c, tnNum: 900, tnValue: 7, sequenceNumber: seq })
      return [record, structuredClone(record)]
    },
    outcome: { _tag: "Repeat" },
    dollars: 7
  },
  {
    // Without TnNum a record is guarded by its SequenceNumber: the second is a repeat, whatever its amount.
    name: "duplicated sequence number, no TnNum",
    records: (seq, c) => [
      Events.insert({ custId: c, tnValue: 7, sequenceNumber: seq }),
      Events.insert({ custId: c, tnValue: 5000, sequenceNumber: seq })
    ],
    outcome: { _tag: "Repeat" },
    dollars: 7
  },
  {
    // Guarded by TnNum: two transactions that share a sequence number are both counted.
    name: "duplicated sequence number, different TnNum",
    records: (seq, c) => [
      Events.insert({ custId: c, tnNum: 900, tnValue: 7, sequenceNumber: seq }),
      Events.insert({ custId: c, tnNum: 901, tnValue: 8, sequenceNumber: seq })
    ],
    outcome: { _tag: "Counted" },
    dollars: 15
  },
  {
    // Other attributes are the shop's business: a 400 KB note beside a good transaction is counted.
    name: "400 KB attribute beside a good transaction",
    records: (seq, c) => [insert(seq, image(c, "900", { Note: { S: "n".repeat(BIG) } }))],
    outcome: { _tag: "Counted" },
    dollars: 7
  },
  {
    name: "TnNum past 2^53",
    records: (seq, c) => [insert(seq, image(c, "9007199254740993")), insert(`${seq}1`, image(c, "9007199254740992"))],
    outcome: { _tag: "Counted" },
    dollars: 14
  }
]

/** Kinds that are malformed (every kind but those {@link Outcome} calls Counted). */
export const malformed = kinds.filter((k) => k.outcome._tag !== "Counted")
