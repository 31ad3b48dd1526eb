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

/** Runs the steps in order, printing one line each and a summary; stops at the first failure. */
export const runAll = <E, R>(steps: ReadonlyArray<Step<E, R>>) =>
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
      changed === 0 ? `Nothing to change: all ${steps.length} steps were already in place.` : `Done: ${changed} of ${steps.length} steps changed something.`
    )
    return outcomes
  })
