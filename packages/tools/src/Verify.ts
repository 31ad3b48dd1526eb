/**
 * The Jam's two checks, run against a deployment: Task 1 invokes the function with the acceptance
 * event and reads `task1test1record` back; Task 2 writes a new customer's purchases into
 * CustTransactions and waits for the stream to make the profile Elite. Each cleans up what it wrote,
 * and what the function wrote for it: a check leaves nothing behind.
 */
import { DeleteItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb"
import * as Elite from "@dyna/core/Elite"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import { randomUUID } from "node:crypto"
import { DynamoDb } from "@dyna/aws/DynamoDb"
import * as Pages from "@dyna/aws/Pages"
import { ProfileStore } from "@dyna/aws/ProfileStore"
import * as Retry from "@dyna/aws/Retry"
import { Tables } from "@dyna/aws/Tables"
import * as Transactions from "./Transactions.js"

export interface CheckResult {
  readonly name: string
  readonly passed: boolean
  readonly detail: string
}

/** Runs the deployed function once with an event and returns its response; fails as Lambda's `FunctionError` would. */
export type Invoke<E> = (event: unknown) => Effect.Effect<unknown, E>

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error))

const deleteProfile = (custId: string) =>
  Effect.gen(function*() {
    const db = yield* DynamoDb
    const tables = yield* Tables
    yield* Retry.onTransient(
      db.call("DeleteItem", (c) => c.send(new DeleteItemCommand({ TableName: tables.profiles, Key: { CustID: { S: custId } } })))
    )
  })

/**
 * Deletes every CustEliteEvents item of a customer: its EliteQualified events and, for a hot customer,
 * the applied-log pages kept under negative ProfileVersion keys. Otherwise `elite events` and `elite
 * watch` would announce a test customer who no longer exists.
 */
export const deleteEvents = (custId: string) =>
  Effect.gen(function*() {
    const db = yield* DynamoDb
    const tables = yield* Tables
    const keysFrom = (start: Pages.StartKey) =>
      Retry.onTransient(db.call("Query", (c) =>
        c.send(new QueryCommand({
          TableName: tables.events,
          KeyConditionExpression: "CustID = :c",
          ExpressionAttributeValues: { ":c": { S: custId } },
          ProjectionExpression: "CustID, ProfileVersion",
          ConsistentRead: true,
          ...(start === undefined ? {} : { ExclusiveStartKey: start })
        }))
      ))
    yield* Pages.forEach(keysFrom, (keys) =>
      Effect.forEach(keys, (key) =>
        Retry.onTransient(db.call("DeleteItem", (c) => c.send(new DeleteItemCommand({ TableName: tables.events, Key: key })))), { discard: true }))
  })

const shown = (profile: { readonly totalTnValue: number; readonly custStatus: string } | undefined) =>
  profile === undefined ? "no profile" : `${profile.totalTnValue} / ${profile.custStatus}`

export const TASK1_CUSTOMER = "task1test1record"

/** Task 1: the acceptance event through the function leaves `task1test1record` at 250 / Normal. */
export const task1 = <E>(invoke: Invoke<E>, acceptanceEvent: unknown) =>
  Effect.gen(function*() {
    const store = yield* ProfileStore
    // Start from no profile, so the check reads this invocation's effect alone.
    yield* deleteProfile(TASK1_CUSTOMER)
    const invoked = yield* Effect.result(invoke(acceptanceEvent))
    if (invoked._tag === "Failure") {
      return { name: "Task 1", passed: false, detail: `invoking the function failed: ${messageOf(invoked.failure)}` }
    }
    const profile = yield* store.get(TASK1_CUSTOMER)
    const passed = profile?.totalTnValue === 250 && profile.custStatus === "Normal"
    return {
      name: "Task 1",
      passed,
      detail: `${TASK1_CUSTOMER} is ${shown(profile)} (expected 250 / Normal); response ${JSON.stringify(invoked.success)}`
    } satisfies CheckResult
  }).pipe(Effect.ensuring(Effect.ignore(deleteProfile(TASK1_CUSTOMER))))

export interface Task2Options {
  /** How long to wait for the profile to be right. */
  readonly timeout: Duration.Input
  /** How often to read the profile while waiting. */
  readonly pollEvery: Duration.Input
}

/** The purchases Task 2 writes: Normal after the first two, Elite with the third. */
export const TASK2_AMOUNTS = [400, 350, 300] as const

/**
 * Task 2: a new customer's purchases, inserted into CustTransactions, reach the profile through the
 * stream and the mapping alone; the delay is measured from the last insert to the right profile.
 */
export const task2 = (options: Task2Options) =>
  Effect.gen(function*() {
    const store = yield* ProfileStore
    const custId = `dyna-verify-${randomUUID().slice(0, 8)}`
    const total = TASK2_AMOUNTS.reduce((a, b) => a + b, 0)
    const expected = `${total} / ${Elite.statusFor(total)}`
    const items = []
    for (const [i, amount] of TASK2_AMOUNTS.entries()) {
      items.push(yield* Transactions.put({ custId, tnNum: String(i + 1), tnValue: String(amount) }))
    }
    const insertedAt = yield* Clock.currentTimeMillis
    const seen = yield* store.get(custId).pipe(
      Effect.repeat({ schedule: Schedule.spaced(options.pollEvery), until: (p) => shown(p) === expected }),
      Effect.timeoutOption(options.timeout)
    )
    const delay = (yield* Clock.currentTimeMillis) - insertedAt
    const last = Option.isSome(seen) ? seen.value : yield* store.get(custId)
    yield* Effect.ignore(Effect.all([Transactions.remove(items), deleteProfile(custId), deleteEvents(custId)], { mode: "result" }))
    return {
      name: "Task 2",
      passed: Option.isSome(seen),
      detail: Option.isSome(seen)
        ? `${custId} reached ${expected} ${delay} ms after the last of ${items.length} inserts`
        : `${custId} is ${shown(last)} after ${Duration.format(Duration.fromInputUnsafe(options.timeout))}, expected ${expected}`
    } satisfies CheckResult
  })
