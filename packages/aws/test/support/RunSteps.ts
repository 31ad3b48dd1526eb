/**
 * Runs provisioning or teardown steps on the fake account (`FakeAws`), moving a TestClock on 100 ms at a
 * time until they are done, and reads back what the clients sent.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import { TestClock, TestConsole } from "effect/testing"
import { assert } from "vitest"
import type { AwsServices } from "../../src/provision/AwsSteps.js"
import { runAll, type Step } from "../../src/provision/Step.js"
import * as FakeAws from "./FakeAws.js"

// A real macrotask, so the mocked SDK's promises settle between two steps of the test clock.
const settle = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/** Runs the steps on the fake account. Returns how it ended and the progress lines it printed. */
export const run = <E>(steps: ReadonlyArray<Step<E, AwsServices>>) =>
  Effect.runPromise(
    Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(runAll(steps).pipe(Effect.provide(FakeAws.services)))
      yield* TestClock.adjust("100 millis").pipe(
        Effect.andThen(settle),
        Effect.repeat({ until: () => fiber.pollUnsafe() !== undefined })
      )
      const exit = yield* Fiber.await(fiber)
      return { exit, lines: yield* TestConsole.logLines, errors: yield* TestConsole.errorLines }
    }).pipe(Effect.provide(Layer.mergeAll(TestClock.layer(), TestConsole.layer)))
  )

export const succeeded = async <E>(steps: ReadonlyArray<Step<E, AwsServices>>) => {
  const { exit, lines } = await run(steps)
  if (Exit.isFailure(exit)) return assert.fail(Cause.pretty(exit.cause))
  return { outcomes: exit.value, lines }
}

export const failed = async <E>(steps: ReadonlyArray<Step<E, AwsServices>>) => {
  const { exit, errors } = await run(steps)
  if (Exit.isSuccess(exit)) return assert.fail("the steps succeeded")
  const error = Cause.squash(exit.cause)
  return { message: error instanceof Error ? error.message : String(error), errors }
}

/** What the clients sent, by command name, in order. */
export const sent = () =>
  [FakeAws.dynamo, FakeAws.iam, FakeAws.lambda].flatMap((mock) => mock.calls().map((call) => call.args[0].constructor.name))

export const forgetRequests = () => {
  for (const mock of [FakeAws.dynamo, FakeAws.iam, FakeAws.lambda]) mock.resetHistory()
}

/** Requests that change something. */
export const mutating = /^(Create|Update|Put|Delete|Tag|Untag|Attach|Detach)/
