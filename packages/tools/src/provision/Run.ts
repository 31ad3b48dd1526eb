/**
 * Running provisioning or teardown steps. Every run first decides every step (describe/get/list calls
 * only); `--plan` prints those decisions and stops. Otherwise the changes that destroy or displace what
 * provision did not create are put to a person (`Confirm`) before the first change is made; then each
 * step decides again on what is there by then, and applies.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { Confirm } from "../Confirm.js"
import type { Action, Change, Outcome, Step } from "./Step.js"

/** What the summary says when no step changed anything: provisioning's wording, or teardown's. */
export const ALREADY_IN_PLACE = "Nothing to change: all {n} steps were already in place."
export const ALREADY_GONE = "Nothing to remove: all {n} steps were already done."

/** A risky change was not agreed to: nothing was changed. */
export class NotConfirmed extends Schema.TaggedError<NotConfirmed>()("NotConfirmed", {
  risks: Schema.Array(Schema.String),
  /** The risk appeared only after the plan was agreed to: what was there changed in between. */
  late: Schema.Boolean
}) {
  override get message() {
    return this.late
      ? `stopped before a change no one agreed to (what exists changed since the plan): ${this.risks.join("; ")}`
      : `nothing was changed: ${this.risks.length === 1 ? "one step needs" : `${this.risks.length} steps need`} your agreement; ` +
        "run it on a terminal to be asked, or pass --yes"
  }
}

const planned: Record<Action, string> = {
  created: "will create",
  updated: "will update",
  deleted: "will delete",
  started: "will start",
  stopped: "will stop",
  kept: "keeps",
  unchanged: "unchanged"
}

const changes = (c: Outcome) => c.action !== "unchanged" && c.action !== "kept"

const line = (i: number, n: number, title: string, verb: string, o: Outcome) =>
  `[${i + 1}/${n}] ${title}: ${verb} ${o.resource}${o.detail === undefined ? "" : ` (${o.detail})`}`

/** Decides every step in order, printing `[i/n] title: will create …` and each risk under its step. */
const decideAll = <E, R>(steps: ReadonlyArray<Step<E, R>>, header: string) =>
  Effect.gen(function*() {
    yield* Console.log(header)
    const decided: Array<Change<E, R>> = []
    for (const [i, step] of steps.entries()) {
      const c = yield* step.decide.pipe(Effect.tapError(() => Console.error(`[${i + 1}/${steps.length}] ${step.title}: cannot go on`)))
      decided.push(c)
      yield* Console.log(line(i, steps.length, step.title, planned[c.action], c))
      if (c.risk !== undefined) yield* Console.log(`      ! ${c.risk}`)
    }
    return decided
  })

const tally = (decided: ReadonlyArray<Outcome>) => {
  const count = (a: Action) => decided.filter((c) => c.action === a).length
  const parts = [
    `${count("created") + count("started")} to create`,
    `${count("updated")} to update`,
    `${count("deleted") + count("stopped")} to remove`,
    `${decided.length - decided.filter(changes).length} unchanged or kept`
  ]
  return parts.join(", ")
}

/**
 * `--plan`: prints what every step would do, using describe/get/list calls only, and changes nothing.
 * Later steps decide on what exists now, so a step after one that creates a resource says what it will
 * do once that resource is there.
 */
export const plan = <E, R>(steps: ReadonlyArray<Step<E, R>>) =>
  Effect.gen(function*() {
    const decided = yield* decideAll(steps, "Plan (nothing is changed):")
    const risky = decided.flatMap((c) => (c.risk === undefined ? [] : [c.risk]))
    yield* Console.log(`Plan: ${tally(decided)}.${risky.length === 0 ? "" : ` ${risky.length} change(s) marked ! need agreement (--yes).`}`)
    return decided
  })

/**
 * Decides every step, asks once for the risky changes, then runs the steps in order, each deciding
 * again and applying; stops at the first failure. A risk no one agreed to stops the run before it.
 */
export const runAll = <E, R>(steps: ReadonlyArray<Step<E, R>>, nothingChanged: string = ALREADY_IN_PLACE) =>
  Effect.gen(function*() {
    const first = yield* decideAll(steps, "Plan:")
    const risks = first.flatMap((c) => (c.risk === undefined ? [] : [c.risk]))
    if (risks.length > 0) {
      const confirm = yield* Confirm
      if (!(yield* confirm.ask(risks))) return yield* new NotConfirmed({ risks, late: false })
    }
    // Agreement is per step: a step agreed to may say its risk in other words once earlier steps ran.
    const agreed = new Set(first.flatMap((c, i) => (c.risk === undefined ? [] : [i])))
    if (first.some(changes)) yield* Console.log("Applying:")
    const outcomes: Array<Outcome> = []
    for (const [i, step] of steps.entries()) {
      const failed = Console.error(`[${i + 1}/${steps.length}] ${step.title}: failed`)
      const c = yield* step.decide.pipe(Effect.tapError(() => failed))
      if (c.risk !== undefined && !agreed.has(i)) return yield* new NotConfirmed({ risks: [c.risk], late: true })
      const outcome: Outcome = c.apply === undefined ? c : yield* c.apply.pipe(Effect.tapError(() => failed))
      outcomes.push(outcome)
      if (c.apply !== undefined) yield* Console.log(line(i, steps.length, step.title, outcome.action, outcome))
    }
    const changed = outcomes.filter(changes).length
    yield* Console.log(
      changed === 0 ? nothingChanged.replace("{n}", String(steps.length)) : `Done: ${changed} of ${steps.length} steps changed something.`
    )
    return outcomes
  })
