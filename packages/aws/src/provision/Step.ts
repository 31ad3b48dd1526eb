/**
 * A provisioning step: it describes what exists, then creates or updates only what differs, and says
 * which it did. Provisioning is an ordered list of them.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"

export type Action = "created" | "updated" | "unchanged" | "started" | "stopped" | "deleted" | "kept"

export interface Outcome {
  readonly action: Action
  /** The resource's name or ARN. */
  readonly resource: string
  readonly detail?: string
}

export interface Step<E, R> {
  readonly title: string
  readonly run: Effect.Effect<Outcome, E, R>
}

/** What the summary says when no step changed anything: provisioning's wording, or teardown's. */
export const ALREADY_IN_PLACE = "Nothing to change: all {n} steps were already in place."
export const ALREADY_GONE = "Nothing to remove: all {n} steps were already done."

/** Runs the steps in order, printing one line each and a summary; stops at the first failure. */
export const runAll = <E, R>(steps: ReadonlyArray<Step<E, R>>, nothingChanged: string = ALREADY_IN_PLACE) =>
  Effect.gen(function*() {
    const outcomes: Array<Outcome> = []
    for (const [i, step] of steps.entries()) {
      const outcome = yield* step.run.pipe(
        Effect.tapError(() => Console.error(`[${i + 1}/${steps.length}] ${step.title}: failed`))
      )
      outcomes.push(outcome)
      const detail = outcome.detail === undefined ? "" : ` (${outcome.detail})`
      yield* Console.log(`[${i + 1}/${steps.length}] ${step.title}: ${outcome.action} ${outcome.resource}${detail}`)
    }
    const changed = outcomes.filter((o) => o.action !== "unchanged" && o.action !== "kept").length
    yield* Console.log(
      changed === 0 ? nothingChanged.replace("{n}", String(steps.length)) : `Done: ${changed} of ${steps.length} steps changed something.`
    )
    return outcomes
  })
