/**
 * Named retry policies: exponential, jittered and bounded. Call sites say which errors they retry.
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"

/** An error that says what kind of failure it met: `DynamoDbError`, `LambdaError`, `IamError`. */
export interface Classified {
  readonly kind: string
}

/** Throttling, 5xx and dropped connections: about 1.5 s of backing off in all before giving up. */
export const transient = Schedule.exponential("50 millis").pipe(Schedule.jittered, Schedule.upTo({ times: 5 }))

/** Another writer changed the profile between our read and our write: re-read and try again, quickly. */
export const lostRace = Schedule.exponential("10 millis").pipe(Schedule.jittered, Schedule.upTo({ times: 8 }))

/** Whether another try may succeed: throttling, 5xx and an unreachable endpoint are worth one; a refusal or a bad request is not. */
export const isTransient = (error: Classified): boolean => error.kind === "Transient" || error.kind === "Unreachable"

/** Retries an AWS call on `transient` while its failures are transient. */
export const onTransient = <A, E extends Classified, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.retry(effect, { schedule: transient, while: isTransient })

/**
 * A role or permission that IAM has only just created is not visible to Lambda for a while
 * ("The role defined for the function cannot be assumed by Lambda", "Cannot access stream"): keep
 * trying for up to two minutes.
 */
export const iamPropagation = Schedule.min([Schedule.exponential("1 second", 1.5), Schedule.spaced("10 seconds")]).pipe(
  Schedule.jittered,
  Schedule.upTo({ duration: "2 minutes" })
)

/**
 * A resource AWS is still creating or updating (an event source mapping on its way to `Enabled`, a
 * function mid-update): look again every 2 seconds, for up to 5 minutes.
 */
export const resourceReady = Schedule.spaced("2 seconds").pipe(Schedule.upTo({ duration: "5 minutes" }))

/** The local runner's wait before it delivers a failed batch again, as Lambda backs off on a shard. */
export const redelivery = Schedule.min([Schedule.exponential("100 millis"), Schedule.spaced("5 seconds")]).pipe(
  Schedule.jittered
)
