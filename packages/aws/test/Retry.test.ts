import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { TestClock } from "effect/testing"
import { assert, describe, it } from "vitest"
import { DynamoDbError, type ErrorKind } from "../src/DynamoDb.js"
import * as Retry from "../src/Retry.js"

/** Runs `onTransient` over a call that always fails with `kind`, on a test clock; counts the attempts. */
const attemptsUntilGivingUp = (kind: ErrorKind) =>
  Effect.gen(function*() {
    let attempts = 0
    const call = Effect.suspend(() => {
      attempts++
      return Effect.fail(new DynamoDbError({ operation: "UpdateItem", kind, endpoint: "test", cause: new Error(kind) }))
    })
    const fiber = yield* Effect.forkChild(Retry.onTransient(call))
    yield* TestClock.adjust("1 minute")
    const exit = yield* Fiber.await(fiber)
    return { attempts, failed: exit._tag === "Failure" }
  }).pipe(Effect.provide(TestClock.layer()))

describe("Retry", () => {
  it("retries a throttled call five times, then gives up", async () => {
    assert.deepStrictEqual(await Effect.runPromise(attemptsUntilGivingUp("Transient")), { attempts: 6, failed: true })
  })

  it("retries an unreachable endpoint like throttling", async () => {
    assert.strictEqual((await Effect.runPromise(attemptsUntilGivingUp("Unreachable"))).attempts, 6)
  })

  it("does not retry a failed condition or a missing table", async () => {
    assert.strictEqual((await Effect.runPromise(attemptsUntilGivingUp("ConditionFailed"))).attempts, 1)
    assert.strictEqual((await Effect.runPromise(attemptsUntilGivingUp("NotFound"))).attempts, 1)
  })

  it("backs off exponentially: five retries need more than 1.5 s of (jittered) waiting in all", async () => {
    const attemptsAfter = (elapsed: Duration.Input) =>
      Effect.runPromise(Effect.gen(function*() {
        let attempts = 0
        const call = Effect.suspend(() => {
          attempts++
          return Effect.fail(new DynamoDbError({ operation: "GetItem", kind: "Transient", endpoint: "test", cause: null }))
        })
        yield* Effect.forkChild(Retry.onTransient(call))
        yield* TestClock.adjust(elapsed)
        return attempts
      }).pipe(Effect.provide(TestClock.layer())))
    // 50 + 100 + 200 + 400 + 800 ms, each jittered by ±20%: the last retry cannot come before 1.24 s.
    assert.isBelow(await attemptsAfter("1200 millis"), 6)
    assert.strictEqual(await attemptsAfter("2 seconds"), 6)
  })
})
