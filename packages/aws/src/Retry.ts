/**
 * Named retry policies: exponential, jittered and bounded. Call sites say which errors they retry.
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type { DynamoDbError } from "./DynamoDb.js"

/** Throttling, 5xx and dropped connections: about 1.5 s of backing off in all before giving up. */
export const transient = Schedule.exponential("50 millis").pipe(Schedule.jittered, Schedule.upTo({ times: 5 }))

/** Another writer changed the profile between our read and our write: re-read and try again, quickly. */
export const lostRace = Schedule.exponential("10 millis").pipe(Schedule.jittered, Schedule.upTo({ times: 8 }))

export const isTransient = (error: DynamoDbError): boolean => error.kind === "Transient" || error.kind === "Unreachable"

/** Retries a DynamoDB call on `transient` while its failures are transient. */
export const onTransient = <A, R>(effect: Effect.Effect<A, DynamoDbError, R>): Effect.Effect<A, DynamoDbError, R> =>
  Effect.retry(effect, { schedule: transient, while: isTransient })
