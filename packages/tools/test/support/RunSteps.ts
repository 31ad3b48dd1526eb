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
import { Confirm } from "../../src/Confirm.js"
import type { AwsServices } from "../../src/provision/AwsSteps.js"
import { plan, runAll } from "../../src/provision/Run.js"
import type { Step } from "../../src/provision/Step.js"
import * as FakeAws from "./FakeAws.js"

/** How the steps are run: applied (a person answering `yes` or no one to ask), or only planned. */
export interface RunOptions {
  readonly mode?: "apply" | "plan"
  /** The answer to a confirmation (`--yes`): by default no one agrees. */
  readonly yes?: boolean
}

type Steps<E> = ReadonlyArray<Step<E, AwsServices>> | Effect.Effect<ReadonlyArray<Step<E, AwsServices>>>

// A real macrotask, so the mocked SDK's promises settle between two steps of the test clock.
const settle = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/** Runs the steps on the fake account. Returns how it ended and the progress lines it printed. */
export const run = <E>(steps: Steps<E>, options: RunOptions = {}) =>
  Effect.runPromise(
    Effect.gen(function*() {
      const all = Effect.isEffect(steps) ? yield* steps : steps
      const program = options.mode === "plan" ? plan(all) : runAll(all)
      const fiber = yield* Effect.forkChild(
        program.pipe(Effect.provide(Layer.mergeAll(FakeAws.services, options.yes === true ? Confirm.yes : Confirm.no)))
      )
      yield* TestClock.adjust("100 millis").pipe(
        Effect.andThen(settle),
        Effect.repeat({ until: () => fiber.pollUnsafe() !== undefined })
      )
      const exit = yield* Fiber.await(fiber)
      return { exit, lines: yield* TestConsole.logLines, errors: yield* TestConsole.errorLines }
    }).pipe(Effect.provide(Layer.mergeAll(TestClock.layer(), TestConsole.layer)))
  )

export const succeeded = async <E>(steps: Steps<E>, options: RunOptions = {}) => {
  const { exit, lines } = await run(steps, options)
  if (Exit.isFailure(exit)) return assert.fail(Cause.pretty(exit.cause))
  return { outcomes: exit.value, lines }
}

export const failed = async <E>(steps: Steps<E>, options: RunOptions = {}) => {
  const { exit, errors, lines } = await run(steps, options)
  if (Exit.isSuccess(exit)) return assert.fail("the steps succeeded")
  const error = Cause.squash(exit.cause)
  return { message: error instanceof Error ? error.message : String(error), errors, lines }
}

/** What the clients sent, by command name, in order. */
export const sent = () =>
  [FakeAws.dynamo, FakeAws.iam, FakeAws.lambda, FakeAws.s3, FakeAws.cloudWatch, FakeAws.logs].flatMap((mock) => mock.calls().map((call) => call.args[0].constructor.name))

export const forgetRequests = () => {
  for (const mock of [FakeAws.dynamo, FakeAws.iam, FakeAws.lambda, FakeAws.s3, FakeAws.cloudWatch, FakeAws.logs]) mock.resetHistory()
}

/** Requests that change something. */
export const mutating = /^(Create|Update|Put|Delete|Tag|Untag|Attach|Detach|Publish|Invoke|Remove|Add)/
