/**
 * A provisioning or teardown step: it first decides, from describe/get/list calls only, what it would
 * change, then applies that change. `--plan` prints the decisions and sends nothing that changes
 * anything; a change that destroys or displaces what is not ours carries a `risk` a person confirms.
 */
import * as Effect from "effect/Effect"

export type Action = "created" | "updated" | "unchanged" | "started" | "stopped" | "deleted" | "kept"

/** What a step did. */
export interface Outcome {
  readonly action: Action
  /** The resource's name or ARN. */
  readonly resource: string
  readonly detail?: string
}

/**
 * What a step found and what it will do about it. `action` is the outcome the change will have;
 * `apply` makes it (absent when there is nothing to do). `risk` says, in one sentence, what is destroyed
 * or displaced that provision did not create: such a change is only made once a person confirmed it.
 */
export interface Change<E, R> extends Outcome {
  readonly risk?: string
  readonly apply?: Effect.Effect<Outcome, E, R>
}

export interface Step<E, R> {
  readonly title: string
  /** Describe/get/list calls only: it never changes anything. */
  readonly decide: Effect.Effect<Change<E, R>, E, R>
}

/** A decision to leave the resource as it is (also "kept" and "not there" decisions). */
export const noChange = <E = never, R = never>(outcome: Outcome): Change<E, R> => outcome

/** A decision to act: `apply` yields the outcome (usually the same `action` with the ARN it learned). */
export const change = <E, R>(
  planned: Outcome & { readonly risk?: string | undefined },
  apply: Effect.Effect<Outcome, E, R>
): Change<E, R> => ({
  action: planned.action,
  resource: planned.resource,
  ...(planned.detail === undefined ? {} : { detail: planned.detail }),
  ...(planned.risk === undefined ? {} : { risk: planned.risk }),
  apply
})

/** A step whose decision is always to run `effect` (the local stack's steps that act on files and processes). */
export const always = <E, R>(title: string, planned: Outcome, effect: Effect.Effect<Outcome, E, R>): Step<E, R> => ({
  title,
  decide: Effect.succeed(change(planned, effect))
})

/** Decides, then applies at once: for callers that are not a `--plan` run (tests, the local stack's setup). */
export const applied = <E, R, E2, R2>(decide: Effect.Effect<Change<E2, R2>, E, R>): Effect.Effect<Outcome, E | E2, R | R2> =>
  Effect.flatMap(decide, (c): Effect.Effect<Outcome, E2, R2> => c.apply ?? Effect.succeed<Outcome>(c))
