/**
 * Asking a person before a change destroys or displaces what provision did not create. On a terminal
 * the question is asked; without one, only `--yes` says yes, so a script never changes such a thing by
 * surprise.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { createInterface } from "node:readline/promises"

export class Confirm extends Context.Service<Confirm, {
  /** Whether the person agrees to every one of `risks` (each one sentence). */
  readonly ask: (risks: ReadonlyArray<string>) => Effect.Effect<boolean>
}>()("dyna-elite/aws/Confirm") {
  /** `--yes`: every change is agreed to beforehand. */
  static readonly yes = Layer.succeed(Confirm, Confirm.of({ ask: () => Effect.succeed(true) }))

  /** No one to ask (no terminal, no `--yes`): nothing risky is done. */
  static readonly no = Layer.succeed(Confirm, Confirm.of({ ask: () => Effect.succeed(false) }))

  /** Asks on the terminal (stderr, so stdout stays the command's output); a non-terminal stdin answers no. */
  static readonly terminal = Layer.succeed(
    Confirm,
    Confirm.of({
      ask: (risks) =>
        process.stdin.isTTY !== true
          ? Effect.succeed(false)
          : Effect.promise(async () => {
            const rl = createInterface({ input: process.stdin, output: process.stderr })
            try {
              const noun = risks.length === 1 ? "this change" : `these ${risks.length} changes`
              const answer = await rl.question(`Proceed with ${noun}? Type "yes" to go on: `)
              return answer.trim().toLowerCase() === "yes"
            } finally {
              rl.close()
            }
          })
    })
  )

  /** `--yes` given: `yes`; else ask on the terminal when there is one. */
  static readonly layerFor = (yes: boolean) => (yes ? Confirm.yes : Confirm.terminal)
}
