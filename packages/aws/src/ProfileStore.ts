/**
 * CustProfile reads and the exactly-once write: one customer's planned transactions are counted with a
 * single conditional UpdateItem that moves the total, the status and the applied log together (with
 * the EliteQualified event, in one transaction, when it promotes). A backfill's promotions may share one
 * transaction among several customers (`recountPlanned`), each still conditioned on its own version.
 * Optimistic concurrency on `ProfileVersion`: anything else that writes TotalTnValue must bump it too.
 * A log grown past a kilobyte moves to page items (`AppliedPages`), put fresh before the write that
 * refers to them and read back only for an id that could be in one.
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand
} from "@aws-sdk/client-dynamodb"
import * as AppliedIds from "@dyna/core/AppliedIds"
import * as AppliedLog from "@dyna/core/AppliedLog"
import * as AppliedPages from "@dyna/core/AppliedPages"
import type { CustomerPlan } from "@dyna/core/Plan"
import * as Profile from "@dyna/core/Profile"
import * as ProfileUpdate from "@dyna/core/ProfileUpdate"
import * as Promotion from "@dyna/core/Promotion"
import * as RecountBatch from "@dyna/core/RecountBatch"
import { type CustomerId, guardKey, type Transaction } from "@dyna/core/Transaction"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { capacityUnits, DynamoDb, type DynamoDbError, isItemTooLarge } from "./DynamoDb.js"
import * as Retry from "./Retry.js"
import { Tables } from "./Tables.js"
import { TransactionStore, type UnreadableRow } from "./TransactionStore.js"

/** Other writers kept changing the profile between our read and our write, past `Retry.lostRace`. */
export class LostRace extends Schema.TaggedError<LostRace>()("LostRace", {
  custId: Schema.String,
  /** How many of our conditional writes lost, over every attempt (the invocation's metrics count them). */
  racesLost: Schema.optional(Schema.Number)
}) {
  override get message() {
    return `CustProfile ${this.custId} kept changing under concurrent writers; will be delivered again`
  }
}

/**
 * The profile would pass DynamoDB's 400 KB item limit. Its applied log cannot make it so (past 600 bytes
 * the log moves to pages); only attributes of its own could, on a profile someone else wrote.
 */
export class ProfileTooLarge extends Schema.TaggedError<ProfileTooLarge>()("ProfileTooLarge", {
  custId: Schema.String,
  loggedIds: Schema.Number
}) {
  override get message() {
    return `CustProfile ${this.custId} would pass DynamoDB's 400 KB item limit with ${this.loggedIds} transaction ids in its applied log`
  }
}

/**
 * A key in CustEliteEvents was taken by something this profile does not know: an EliteQualified event
 * of an earlier life of the profile (deleted or restored since), or a page put by a writer that lost its
 * race. Never a lost race: the next attempt steps over the key (`ProfileUpdate.Avoid`).
 */
export class KeyTaken extends Schema.TaggedError<KeyTaken>()("KeyTaken", {
  custId: Schema.String,
  what: Schema.Literals(["event", "page"]),
  key: Schema.String
}) {
  override get message() {
    return `CustEliteEvents ${this.custId}/${this.key} already holds an ${this.what === "event" ? "EliteQualified event" : "applied page"}`
  }
}

/** What an update's writes came to, for the invocation's metrics. */
export interface Writes {
  /** Profile writes that took: an UpdateItem, or a TransactWriteItems with a promotion (0 or 1). */
  readonly profileWrites: number
  /** Conditional profile writes that lost to another writer, each followed by a fresh read and another try. */
  readonly racesLost: number
  /**
   * The write units DynamoDB reported for the writes that took, the applied log's pages included (a
   * refused conditional write reports none).
   */
  readonly writeUnits: number
}

/** A profile update as `apply` and `recount` return it: the core's update, and what writing it took. */
export interface Applied extends ProfileUpdate.ProfileUpdate {
  readonly writes: Writes
}

/** Why a customer's plan was not applied: the batch reports that customer's records as failed, for Lambda to retry. */
export type ApplyError = DynamoDbError | LostRace | ProfileTooLarge | Profile.UnreadableProfile

/** Why a TransactWriteItems was cancelled, item by item, in the order of its `TransactItems`. */
const Cancellation = Schema.Struct({
  CancellationReasons: Schema.Array(Schema.Struct({ Code: Schema.optional(Schema.String) }))
})
const decodeCancellation = Schema.decodeUnknownOption(Cancellation)

/** The code of the `index`th item's cancellation reason, when DynamoDB gave one. */
const cancellationCode = (error: DynamoDbError, index: number): string | undefined =>
  Option.getOrUndefined(decodeCancellation(error.cause))?.CancellationReasons[index]?.Code

const decodePage = Schema.decodeUnknownResult(AppliedPages.PageItem)

/** One customer's share of a recount batch: its `Applied`, or why it was not written. */
export interface Recounted {
  readonly custId: string
  readonly result: Result.Result<Applied, ApplyError | UnreadableRow>
}

/**
 * Where `settle`'s first attempt starts: with its update decided already (on a profile read ahead), or
 * after a shared transaction's cancellation, with the race it lost or the event key it found taken.
 */
interface Start {
  readonly decided?: ProfileUpdate.ProfileUpdate | undefined
  readonly racesLost?: number | undefined
  readonly avoid?: ProfileUpdate.Avoid | undefined
}

/** One profile read: the profile, `undefined` when the customer has none, or why it cannot be read. */
export type Read = Result.Result<Profile.Profile | undefined, Profile.UnreadableProfile>

/**
 * Profiles read ahead for a batch's customers, strongly consistent, in BatchGetItems of 100. A customer
 * missing from it (left unprocessed, or the whole read failed) is read alone when applied.
 */
export type ReadAhead = ReadonlyMap<string, Read>

/** BatchGetItem's limit on keys per request. */
const BATCH_GET_KEYS = 100

const maxText = (a: string | undefined, b: string) => (a === undefined || BigInt(b) > BigInt(a) ? b : a)

/** What the next decision must avoid once `taken` was found taken: its event version, or its page's run. */
const stepOver = (avoid: ProfileUpdate.Avoid, taken: KeyTaken): ProfileUpdate.Avoid =>
  taken.what === "event"
    ? { ...avoid, version: Math.max(avoid.version ?? 0, Number(taken.key)) }
    : { ...avoid, base: maxText(avoid.base, AppliedPages.baseOf(taken.key)) }

/** CustProfile, written only here and only by a conditional write, so that every transaction is counted exactly once. */
export class ProfileStore extends Context.Service<ProfileStore, {
  /** The stored profile, or `undefined` when the customer has none. */
  readonly get: (custId: string) => Effect.Effect<Profile.Profile | undefined, DynamoDbError | Profile.UnreadableProfile>
  /**
   * Reads the customers' profiles ahead, one request per 100 instead of one each. Never fails: what it
   * could not read, `apply` reads alone.
   */
  readonly readAhead: (custIds: ReadonlyArray<string>) => Effect.Effect<ReadAhead>
  /**
   * Counts each transaction of the plan exactly once; a repeat of a counted one is reported as a duplicate.
   * The first attempt starts from `readAhead`'s profile when it has one; a lost race reads again.
   */
  readonly apply: (plan: CustomerPlan, readAhead?: ReadAhead) => Effect.Effect<Applied, ApplyError>
  /**
   * Sets the customer's total to the sum of their CustTransactions rows, through the same conditional
   * write: what backfill and repair do (see `ProfileUpdate.recount`).
   */
  readonly recount: (custId: CustomerId, readAhead?: ReadAhead) => Effect.Effect<Applied, ApplyError | UnreadableRow>
  /**
   * `recount` from rows the caller read already: `scanned` must be every row the customer had when a
   * strongly consistent read began, before the profile is read (a consistent Scan's pages that hold all
   * of the customer's rows, as backfill reads them). Used as they are when the profile read after them
   * has no applied pages and every key in its log is among them; otherwise Queried as `recount` does.
   *
   * Exact: every row the stream counted before the profile read is then in `scanned` (written before
   * the scan began; or counted since, so in the log, so among them), and a row written since the scan
   * began that the stream has not counted is in neither, so the stream counts it when it comes. The
   * write is conditioned on the version read, as `recount`'s is.
   */
  readonly recountScanned: (
    custId: CustomerId,
    scanned: ReadonlyArray<Transaction>,
    readAhead?: ReadAhead
  ) => Effect.Effect<Applied, ApplyError | UnreadableRow>
  /**
   * Writes one of `RecountBatch.plan`'s writes, decided from scanned rows on profiles read ahead, and
   * says each customer's outcome (never fails as a whole). A customer alone is `recountScanned` (or,
   * without rows, `recount`), its first attempt the decided update. A shared transaction writes every
   * member's profile update and event, each conditioned on the version its decision read, once the
   * members' new pages are put (a member whose page key is taken goes alone, past it); when
   * DynamoDB cancels it, nothing is written, and its `CancellationReasons` name the members at fault:
   * each of those is recounted alone (read again, decide, write, as `recountScanned` does), and the
   * others are written again as a smaller transaction. Write units of a shared transaction are split
   * evenly among its members (each wrote the same two items); each adds its own pages' units.
   */
  readonly recountPlanned: (planned: RecountBatch.Planned, readAhead?: ReadAhead) => Effect.Effect<ReadonlyArray<Recounted>>
}>()("dyna-elite/aws/ProfileStore") {
  /** Over whatever `DynamoDb` and `Tables` it is given: the handler's AppLayer wires them once, tests give DynamoDB Local's. */
  static readonly layerNoDeps = Layer.effect(
    ProfileStore,
    Effect.gen(function*() {
      const db = yield* DynamoDb
      const tables = yield* Tables
      const transactions = yield* TransactionStore
      const consistentRead = {
        // The write below is conditioned on what this read saw; a stale read would only lose the race.
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
        const chunks = Array.from(
          { length: Math.ceil(custIds.length / BATCH_GET_KEYS) },
          (_, i) => custIds.slice(i * BATCH_GET_KEYS, (i + 1) * BATCH_GET_KEYS)
        )
        const reads = yield* Effect.forEach(chunks, readChunk, { concurrency: "unbounded" })
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

      /**
       * The ids, among the pages of `profile`, that could be any of `ids` not in its log: read only the
       * pages whose ranges hold one of them (none, for a customer without pages or with ids past them).
       */
      const spilledAmong = (profile: Profile.Profile | undefined, ids: ReadonlyArray<string>, nowSeconds: number) =>
        Effect.gen(function*() {
          if (profile === undefined || profile.pages.length === 0) return new Set<string>()
          const keys = AppliedPages.toRead(profile.pages, ids.filter((id) => !profile.applied.has(id)), nowSeconds)
          if (keys.length === 0) return new Set<string>()
          const chunks = Array.from(
            { length: Math.ceil(keys.length / BATCH_GET_KEYS) },
            (_, i) => keys.slice(i * BATCH_GET_KEYS, (i + 1) * BATCH_GET_KEYS)
          )
          const read = yield* Effect.forEach(chunks, (chunk) => readPageChunk(profile.custId, chunk), { concurrency: 4 })
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

      /** Puts a page where nothing is yet: pages are never rewritten, so what a profile names stays what it named. */
      const putPage = (page: AppliedPages.Page) =>
        Retry.onTransient(db.call("PutItem", (c) =>
          c.send(
            new PutItemCommand({
              TableName: tables.events,
              Item: AppliedPages.toPageItem(page),
              ConditionExpression: "attribute_not_exists(ProfileVersion)",
              ReturnConsumedCapacity: "TOTAL"
            })
          ))).pipe(
            Effect.map((out) => capacityUnits(out.ConsumedCapacity)),
            Effect.catchTag("DynamoDbError", (e): Effect.Effect<number, DynamoDbError | KeyTaken> =>
              e.kind === "ConditionFailed" ? Effect.fail(new KeyTaken({ custId: page.custId, what: "page", key: page.key })) : Effect.fail(e))
          )

      /** Puts an update's new pages (before the write that refers to them), and says the write units they took. */
      const putPages = (update: ProfileUpdate.ProfileUpdate) =>
        Effect.forEach(update.pages, putPage, { concurrency: 4 }).pipe(Effect.map((units) => units.reduce((sum, u) => sum + u, 0)))

      /** The conditional UpdateItem (or transaction item) that moves the profile from `previous` to `next`. */
      const profileUpdateOf = ({ next, previous }: ProfileUpdate.ProfileUpdate) => {
        const applied: Record<string, { N: string }> = {}
        for (const [key, at] of next.applied) applied[key] = { N: String(at) }
        // AppliedPages is named only when there are pages, or were: most customers never have any.
        const set = [
          "TotalTnValue = :total",
          "CustStatus = :status",
          "AppliedTn = :applied",
          "ProfileVersion = :next",
          ...(next.eliteSince === undefined ? [] : ["EliteSince = :since"]),
          ...(next.pages.length === 0 ? [] : ["AppliedPages = :pages"])
        ]
        const remove = [
          ...(next.eliteSince === undefined && previous.eliteSince !== undefined ? ["EliteSince"] : []),
          ...(next.pages.length === 0 && previous.pages.length > 0 ? ["AppliedPages"] : [])
        ]
        return {
          TableName: tables.profiles,
          Key: { CustID: { S: next.custId } },
          // SET only our attributes: the Jam's profiles carry names, emails and more, kept as they are.
          UpdateExpression: `SET ${set.join(", ")}${remove.length === 0 ? "" : ` REMOVE ${remove.join(", ")}`}`,
          ConditionExpression: previous.version === undefined ? "attribute_not_exists(ProfileVersion)" : "ProfileVersion = :prev",
          ExpressionAttributeValues: {
            ":total": { N: String(next.totalTnValue) },
            ":status": { S: next.custStatus },
            ":applied": { M: applied },
            ":next": { N: String(next.version ?? 1) },
            ...(next.eliteSince === undefined ? {} : { ":since": { S: next.eliteSince } }),
            ...(previous.version === undefined ? {} : { ":prev": { N: String(previous.version) } }),
            ...(next.pages.length === 0 ? {} : { ":pages": { L: next.pages.map(AppliedPages.toSegmentItem) } })
          }
        }
      }

      // Keyed by the promoting version; one left by an earlier life of the profile is told apart by its cancellation reason.
      const eventPutOf = (promotion: Promotion.Promotion) => ({
        TableName: tables.events,
        Item: Promotion.toItem(promotion),
        ConditionExpression: "attribute_not_exists(CustID)"
      })

      /**
       * Writes `next` if the row still holds the version `previous` had (`took`: false when another writer
       * won), and says the write units its writes consumed.
       * Its new pages go first, each put where nothing was. A promotion's event goes in the same
       * TransactWriteItems as the profile, so it exists exactly when the profile change does; every other
       * update is one UpdateItem (a transaction costs twice the write units).
       */
      const write = (update: ProfileUpdate.ProfileUpdate) => {
        const { next, promotion } = update
        const profileUpdate = profileUpdateOf(update)
        const sent: Effect.Effect<number, DynamoDbError> = promotion === undefined
          ? db.call("UpdateItem", (c) => c.send(new UpdateItemCommand({ ...profileUpdate, ReturnConsumedCapacity: "TOTAL" })))
            .pipe(Effect.map((out) => capacityUnits(out.ConsumedCapacity)))
          : db.call("TransactWriteItems", (c) =>
            c.send(
              new TransactWriteItemsCommand({
                ReturnConsumedCapacity: "TOTAL",
                TransactItems: [{ Update: profileUpdate }, { Put: eventPutOf(promotion) }]
              })
            )).pipe(Effect.map((out) => capacityUnits(out.ConsumedCapacity)))
        const profileWrite = Retry.onTransient(sent).pipe(
          Effect.map((units) => ({ took: true, units })),
          Effect.catchTag("DynamoDbError", (e): Effect.Effect<{ readonly took: boolean; readonly units: number }, DynamoDbError | ProfileTooLarge | KeyTaken> =>
            e.kind !== "ConditionFailed"
              ? isItemTooLarge(e)
                ? Effect.fail(new ProfileTooLarge({ custId: next.custId, loggedIds: next.applied.size }))
                : Effect.fail(e)
              : promotion !== undefined && cancellationCode(e, 0) !== "ConditionalCheckFailed" &&
                  cancellationCode(e, 1) === "ConditionalCheckFailed"
              // The profile still held what we read; only the event's key was taken.
              ? Effect.fail(new KeyTaken({ custId: next.custId, what: "event", key: String(promotion.profileVersion) }))
              : Effect.succeed({ took: false, units: 0 }))
        )
        return putPages(update).pipe(
          Effect.flatMap((pageUnits) => profileWrite.pipe(Effect.map(({ took, units }) => ({ took, units: units + pageUnits }))))
        )
      }

      /**
       * Reads (the first time from `first`, when given), decides with `decide`, writes conditionally; a
       * lost race reads again, on `Retry.lostRace`, and a key found taken is stepped over the same way.
       * `start.decided` is the first attempt's update, decided by the caller on what it read (then no
       * `first`: the next attempt reads afresh).
       */
      const settle = <E, R>(
        custId: string,
        decide: (
          current: Profile.Profile | undefined,
          nowSeconds: number,
          context: { readonly avoid: ProfileUpdate.Avoid }
        ) => Effect.Effect<ProfileUpdate.ProfileUpdate, E, R>,
        first?: Read,
        start: Start = {}
      ) => {
        let ahead = first
        let decided = start.decided
        // Raised by each KeyTaken, kept across attempts: the keys stay taken.
        let avoid: ProfileUpdate.Avoid = start.avoid ?? {}
        // Counted across attempts, for the metrics: the races lost and the write units spent on the way.
        let racesLost = start.racesLost ?? 0
        let writeUnits = 0
        const applied = (update: ProfileUpdate.ProfileUpdate, profileWrites: number): Applied => ({
          ...update,
          writes: { profileWrites, racesLost, writeUnits }
        })
        const read = Effect.suspend(() => {
          const taken = ahead
          ahead = undefined
          return taken === undefined ? get(custId) : Effect.fromResult(taken)
        })
        return Effect.gen(function*() {
          const pending = decided
          decided = undefined
          const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
          const update = pending ?? (yield* decide(yield* read, now, { avoid }))
          if (!ProfileUpdate.changes(update)) return applied(update, 0)
          const written = yield* write(update)
          writeUnits += written.units
          if (written.took) return applied(update, 1)
          racesLost++
          yield* Effect.logDebug("lost a race for the profile; reading it again").pipe(Effect.annotateLogs({ custId }))
          return yield* new LostRace({ custId, racesLost })
        }).pipe(
          Effect.tapError((e) =>
            Effect.sync(() => {
              if (e instanceof KeyTaken) avoid = stepOver(avoid, e)
            })
          ),
          Effect.retry({ schedule: Retry.lostRace, while: (e) => e instanceof LostRace || e instanceof KeyTaken }),
          // Past its retries a taken key is like a race that kept being lost: delivered again later.
          Effect.mapError((e) => (e instanceof KeyTaken ? new LostRace({ custId, racesLost }) : e))
        )
      }

      const apply = Effect.fnUntraced(function*(plan: CustomerPlan, readAhead?: ReadAhead) {
        const ids = plan.transactions.flatMap((tx) => guardKey(tx) ?? [])
        return yield* settle(plan.custId, (current, now, { avoid }) =>
          spilledAmong(current, ids, now).pipe(
            Effect.map((spilled) => ProfileUpdate.make(current, plan, now, AppliedLog.RETENTION_SECONDS, { spilled, avoid }))
          ), readAhead?.get(plan.custId))
      })

      /** The recount from the customer's rows, Queried strongly consistent after `current` was read. */
      const recountQueried = (custId: CustomerId, current: Profile.Profile | undefined, now: number, avoid: ProfileUpdate.Avoid) =>
        transactions.ofCustomer(custId).pipe(
          Effect.flatMap((rows) =>
            spilledAmong(current, rows.flatMap((tx) => guardKey(tx) ?? []), now).pipe(
              Effect.map((spilled) => ProfileUpdate.recount(custId, current, rows, now, AppliedLog.RETENTION_SECONDS, { spilled, avoid }))
            )
          )
        )

      /**
       * `recountScanned`'s decision, or `recount`'s without rows. Each attempt reads the profile after the
       * scan: `RecountBatch.coversLog` decides on that read whether the rows will do (see `recountScanned`).
       */
      const decideRecount = (custId: CustomerId, scanned: ReadonlyArray<Transaction> | undefined) =>
      (
        current: Profile.Profile | undefined,
        now: number,
        { avoid }: { readonly avoid: ProfileUpdate.Avoid }
      ): Effect.Effect<ProfileUpdate.ProfileUpdate, ApplyError | UnreadableRow> =>
        scanned !== undefined && RecountBatch.coversLog(current, scanned)
          ? Effect.succeed(ProfileUpdate.recount(custId, current, scanned, now, AppliedLog.RETENTION_SECONDS, { avoid }))
          // The rows are read after the profile: see `ProfileUpdate.recount` for why that order is exact.
          : recountQueried(custId, current, now, avoid)

      const recount = Effect.fnUntraced(function*(custId: CustomerId, readAhead?: ReadAhead) {
        return yield* settle(custId, decideRecount(custId, undefined), readAhead?.get(custId))
      })

      const recountScanned = Effect.fnUntraced(
        function*(custId: CustomerId, scanned: ReadonlyArray<Transaction>, readAhead?: ReadAhead) {
          return yield* settle(custId, decideRecount(custId, scanned), readAhead?.get(custId))
        }
      )

      /** A customer recounted alone, its outcome kept rather than failed. */
      const recountAlone = (custId: CustomerId, rows: ReadonlyArray<Transaction> | undefined, first: Read | undefined, start: Start) =>
        settle(custId, decideRecount(custId, rows), first, start).pipe(
          Effect.result,
          Effect.map((result): Recounted => ({ custId, result }))
        )

      /** Members recounted alone at once after a cancellation: few, unless many lost their races. */
      const ALONE_CONCURRENCY = 4

      /** Members whose pages are put at once before their shared transaction: as many as backfill has writes in flight. */
      const PAGING_CONCURRENCY = 16

      /**
       * Puts the members' new pages, as `write` does before a profile write, then writes their promotions
       * together. A member whose page key is found taken goes alone, stepping over it as `settle` does.
       */
      const writeShared = (members: ReadonlyArray<RecountBatch.Member>): Effect.Effect<ReadonlyArray<Recounted>> =>
        Effect.gen(function*() {
          const paged = yield* Effect.forEach(
            members,
            (member) => putPages(member.update).pipe(Effect.result, Effect.map((put) => ({ member, put }))),
            { concurrency: PAGING_CONCURRENCY }
          )
          const ready: Array<RecountBatch.Member> = []
          const pageUnits = new Map<string, number>()
          const taken: Array<Effect.Effect<Recounted>> = []
          for (const { member, put } of paged) {
            if (Result.isSuccess(put)) {
              ready.push(member)
              pageUnits.set(member.custId, put.success)
            } else if (put.failure instanceof KeyTaken) {
              taken.push(recountAlone(member.custId, member.rows, undefined, { avoid: stepOver({}, put.failure) }))
            } else {
              taken.push(Effect.succeed({ custId: member.custId, result: Result.fail(put.failure) }))
            }
          }
          const [written, alone] = yield* Effect.all([
            ready.length === 0 ? Effect.succeed([]) : writeTogether(ready, pageUnits),
            Effect.all(taken, { concurrency: ALONE_CONCURRENCY })
          ], { concurrency: 2 })
          return [...written, ...alone]
        })

      /**
       * One TransactWriteItems of the members' profile updates and events (each update conditioned on
       * the version its decision read, each event on its key being free), their pages put already. When
       * DynamoDB cancels it, the members its reasons name go alone and the rest are written together
       * again: fewer each time.
       */
      const writeTogether = (
        members: ReadonlyArray<RecountBatch.Member>,
        pageUnits: ReadonlyMap<string, number>
      ): Effect.Effect<ReadonlyArray<Recounted>> =>
        Retry.onTransient(db.call("TransactWriteItems", (c) =>
          c.send(
            new TransactWriteItemsCommand({
              ReturnConsumedCapacity: "TOTAL",
              TransactItems: members.flatMap(({ update, promotion }) => [{ Update: profileUpdateOf(update) }, { Put: eventPutOf(promotion) }])
            })
          ))).pipe(
            Effect.map((out) => {
              // Every member wrote the same two items: an even share each, and its own pages.
              const share = capacityUnits(out.ConsumedCapacity) / members.length
              return members.map(({ custId, update }): Recounted => ({
                custId,
                result: Result.succeed({ ...update, writes: { profileWrites: 1, racesLost: 0, writeUnits: share + (pageUnits.get(custId) ?? 0) } })
              }))
            }),
            Effect.catch((error) => sharedCancelled(members, pageUnits, error))
          )

      const sharedCancelled = (members: ReadonlyArray<RecountBatch.Member>, pageUnits: ReadonlyMap<string, number>, error: DynamoDbError) =>
        Effect.gen(function*() {
          const reasons = Option.getOrUndefined(decodeCancellation(error.cause))?.CancellationReasons
          // Not a cancellation with a reason per item (the table is missing, throttled past retries): each member fails alike.
          if (reasons === undefined || reasons.length !== members.length * 2) {
            return members.map(({ custId }): Recounted => ({ custId, result: Result.fail(error) }))
          }
          const again: Array<RecountBatch.Member> = []
          const alone: Array<{ readonly member: RecountBatch.Member; readonly start: Start }> = []
          members.forEach((member, i) => {
            const profile = reasons[2 * i]?.Code ?? "None"
            const event = reasons[2 * i + 1]?.Code ?? "None"
            if (profile === "None" && event === "None") again.push(member)
            else if (profile === "ConditionalCheckFailed") alone.push({ member, start: { racesLost: 1 } })
            // The profile still held what we read; only the event's key was taken: step over it, as `settle` does.
            else if (event === "ConditionalCheckFailed") {
              const taken = new KeyTaken({ custId: member.custId, what: "event", key: String(member.promotion.profileVersion) })
              alone.push({ member, start: { avoid: stepOver({}, taken) } })
            }
            // Anything else (too large, a conflict past its retries) is told apart by a write of its own.
            else alone.push({ member, start: {} })
          })
          yield* Effect.logDebug("shared promotions cancelled; recounting the members at fault alone").pipe(
            Effect.annotateLogs({ members: members.length, alone: alone.length })
          )
          // A cancellation naming no member would come back the same: then every member goes alone.
          const together = alone.length === 0 ? [] : again
          const apart = alone.length === 0 ? members.map((member) => ({ member, start: {} })) : alone
          const [written, recounted] = yield* Effect.all([
            together.length === 0 ? Effect.succeed([]) : writeTogether(together, pageUnits),
            Effect.forEach(apart, ({ member, start }) => recountAlone(member.custId, member.rows, undefined, start), {
              concurrency: ALONE_CONCURRENCY
            })
          ], { concurrency: 2 })
          return [...written, ...recounted]
        })

      const recountPlanned = (planned: RecountBatch.Planned, readAhead?: ReadAhead): Effect.Effect<ReadonlyArray<Recounted>> =>
        planned._tag === "Shared"
          ? writeShared(planned.members)
          : planned.update === undefined
          ? Effect.map(recountAlone(planned.custId, planned.rows, readAhead?.get(planned.custId), {}), (r) => [r])
          : Effect.map(recountAlone(planned.custId, planned.rows, undefined, { decided: planned.update }), (r) => [r])

      return ProfileStore.of({ get, readAhead, apply, recount, recountScanned, recountPlanned })
    })
  )

  /** Complete from configuration, for a script or test that wants this one service alone. */
  static readonly layer = ProfileStore.layerNoDeps.pipe(
    Layer.provide(TransactionStore.layerNoDeps),
    Layer.provide(Layer.mergeAll(DynamoDb.layer, Tables.layer))
  )
}
