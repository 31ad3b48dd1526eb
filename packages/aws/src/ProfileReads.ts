/**
 * Reading CustProfile, strongly consistent: one profile, a batch's profiles ahead (100 per BatchGetItem),
 * and a long log's applied pages, read back only for an id that could be in one.
 */
import { type AttributeValue, BatchGetItemCommand, GetItemCommand } from "@aws-sdk/client-dynamodb"
import * as AppliedIds from "@dyna/core/AppliedIds"
import * as AppliedPages from "@dyna/core/AppliedPages"
import * as Profile from "@dyna/core/Profile"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { DynamoDb, type DynamoDbError } from "./DynamoDb.js"
import * as Retry from "./Retry.js"
import { Tables } from "./Tables.js"

/** One profile read: the profile, `undefined` when the customer has none, or why it cannot be read. */
export type Read = Result.Result<Profile.Profile | undefined, Profile.UnreadableProfile>

/**
 * Profiles read ahead for a batch's customers, strongly consistent, in BatchGetItems of 100. A customer
 * missing from it (left unprocessed, or the whole read failed) is read alone when applied.
 */
export type ReadAhead = ReadonlyMap<string, Read>

/** The reads the profile writes decide on. */
export interface ProfileReads {
  /** The stored profile, or `undefined` when the customer has none. */
  readonly get: (custId: string) => Effect.Effect<Profile.Profile | undefined, DynamoDbError | Profile.UnreadableProfile>
  /**
   * Reads the customers' profiles ahead, one request per 100 instead of one each. Never fails: what it
   * could not read is left out, to be read alone.
   */
  readonly readAhead: (custIds: ReadonlyArray<string>) => Effect.Effect<ReadAhead>
  /**
   * The ids, among the pages of `profile`, that could be any of `ids` not in its log: read only the
   * pages whose ranges hold one of them (none, for a customer without pages or with ids past them).
   */
  readonly spilledAmong: (
    profile: Profile.Profile | undefined,
    ids: ReadonlyArray<string>,
    nowSeconds: number
  ) => Effect.Effect<ReadonlySet<string>, DynamoDbError | Profile.UnreadableProfile>
}

/** BatchGetItem's limit on keys per request. */
const BATCH_GET_KEYS = 100

/** `keys` in runs of at most one BatchGetItem's worth. */
const chunked = <A>(keys: ReadonlyArray<A>): ReadonlyArray<ReadonlyArray<A>> =>
  Array.from({ length: Math.ceil(keys.length / BATCH_GET_KEYS) }, (_, i) => keys.slice(i * BATCH_GET_KEYS, (i + 1) * BATCH_GET_KEYS))

const decodePage = Schema.decodeUnknownResult(AppliedPages.PageItem)

/** The reads over the given client and tables. */
export const make = Effect.gen(function*() {
  const db = yield* DynamoDb
  const tables = yield* Tables
  const consistentRead = {
    // The write is conditioned on what this read saw; a stale read would only lose the race.
    ConsistentRead: true
  } as const

  const get = Effect.fnUntraced(function*(custId: string) {
    const { Item } = yield* Retry.onTransient(db.call("GetItem", (c) =>
      c.send(
        new GetItemCommand({
          TableName: tables.profiles,
          Key: { CustID: { S: custId } },
          ...consistentRead
        })
      )))
    if (Item === undefined) return undefined
    return yield* Effect.fromResult(Profile.fromItem(custId, Item))
  })

  const readChunk = (custIds: ReadonlyArray<string>) =>
    Retry.onTransient(db.call("BatchGetItem", (c) =>
      c.send(
        new BatchGetItemCommand({
          RequestItems: { [tables.profiles]: { Keys: custIds.map((custId) => ({ CustID: { S: custId } })), ...consistentRead } }
        })
      ))).pipe(
        Effect.map(({ Responses, UnprocessedKeys }) => {
          const found = new Map((Responses?.[tables.profiles] ?? []).map((item) => [item.CustID?.S, item]))
          // DynamoDB may leave some keys unread (throttling, 16 MB per response): they are read alone later.
          const unread = new Set((UnprocessedKeys?.[tables.profiles]?.Keys ?? []).map((key) => key.CustID?.S))
          return custIds.filter((custId) => !unread.has(custId)).map((custId): readonly [string, Read] => {
            const item = found.get(custId)
            return [custId, item === undefined ? Result.succeed(undefined) : Profile.fromItem(custId, item)]
          })
        }),
        // Only a shortcut: each customer is read alone instead.
        Effect.catch((error) =>
          Effect.logDebug("profiles not read ahead").pipe(Effect.annotateLogs({ error: error.message }), Effect.as([]))
        )
      )

  const readAhead = Effect.fnUntraced(function*(custIds: ReadonlyArray<string>) {
    const reads = yield* Effect.forEach(chunked(custIds), readChunk, { concurrency: "unbounded" })
    const ahead: ReadAhead = new Map(reads.flat())
    return ahead
  })

  /** One BatchGetItem of page keys, strongly consistent: a page is put before the profile that names it. */
  const readPageChunk = (custId: string, keys: ReadonlyArray<string>) =>
    Retry.onTransient(db.call("BatchGetItem", (c) =>
      c.send(
        new BatchGetItemCommand({
          RequestItems: {
            [tables.events]: {
              Keys: keys.map((key) => ({ CustID: { S: custId }, ProfileVersion: { N: key } })),
              ProjectionExpression: "ProfileVersion, AppliedIds",
              ConsistentRead: true
            }
          }
        })
      ))).pipe(Effect.map(({ Responses, UnprocessedKeys }) => ({
        items: Responses?.[tables.events] ?? [],
        unread: (UnprocessedKeys?.[tables.events]?.Keys ?? []).flatMap((key) => key.ProfileVersion?.N ?? [])
      })))

  /** A page DynamoDB left unprocessed, read alone. */
  const readPage = (custId: string, key: string) =>
    Retry.onTransient(db.call("GetItem", (c) =>
      c.send(
        new GetItemCommand({
          TableName: tables.events,
          Key: { CustID: { S: custId }, ProfileVersion: { N: key } },
          ProjectionExpression: "ProfileVersion, AppliedIds",
          ConsistentRead: true
        })
      ))).pipe(Effect.map(({ Item }) => (Item === undefined ? [] : [Item])))

  const spilledAmong = (profile: Profile.Profile | undefined, ids: ReadonlyArray<string>, nowSeconds: number) =>
    Effect.gen(function*() {
      if (profile === undefined || profile.pages.length === 0) return new Set<string>()
      const keys = AppliedPages.toRead(profile.pages, ids.filter((id) => !profile.applied.has(id)), nowSeconds)
      if (keys.length === 0) return new Set<string>()
      const read = yield* Effect.forEach(chunked(keys), (chunk) => readPageChunk(profile.custId, chunk), { concurrency: 4 })
      const alone = yield* Effect.forEach(read.flatMap((r) => r.unread), (key) => readPage(profile.custId, key), { concurrency: 4 })
      const items: ReadonlyArray<Record<string, AttributeValue>> = [...read.flatMap((r) => r.items), ...alone.flat()]
      const found = new Set<string>()
      const held = new Set<string>()
      for (const item of items) {
        const page = decodePage(item)
        const ids = Result.isSuccess(page) ? AppliedIds.decode(page.success.AppliedIds.S) : undefined
        if (Result.isFailure(page) || ids === undefined || Result.isFailure(ids)) continue
        found.add(BigInt(page.success.ProfileVersion.N).toString())
        for (const id of ids.success) held.add(id)
      }
      const missing = keys.find((key) => !found.has(key))
      if (missing !== undefined) {
        // The profile names a page that is gone or unreadable: what it held can no longer be told apart.
        return yield* new Profile.UnreadableProfile({
          custId: profile.custId,
          field: "AppliedPages",
          reason: `names page ${missing} of CustEliteEvents, which is missing or unreadable`
        })
      }
      return held
    })

  const reads: ProfileReads = { get, readAhead, spilledAmong }
  return reads
})
