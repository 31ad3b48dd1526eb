/**
 * What every script shares: flag parsing with `--help`, the local stack's configuration, and one
 * readable line (no stack trace) and exit code 1 when something fails.
 */
import { withLogging } from "@dyna/aws/AppLayer"
import * as Logging from "@dyna/aws/Logging"
import * as LocalConfig from "@dyna/aws/local/LocalConfig"
import { requireTables } from "@dyna/aws/provision/TableSteps"
import { Tables } from "@dyna/aws/Tables"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import { parseArgs, type ParseArgsConfig } from "node:util"

/** Parses argv; prints `usage` and exits 0 on `--help`, or exits 2 with the problem on bad arguments. */
export const parse = <const O extends NonNullable<ParseArgsConfig["options"]>>(
  usage: string,
  options: O,
  positionals: { readonly min: number; readonly max: number } = { min: 0, max: 0 }
) => {
  try {
    const parsed = parseArgs({
      options: { ...options, help: { type: "boolean", short: "h" } } as O & { help: { type: "boolean"; short: "h" } },
      allowPositionals: positionals.max > 0,
      strict: true
    })
    if ((parsed.values as { readonly help?: boolean }).help === true) {
      console.log(usage)
      process.exit(0)
    }
    if (parsed.positionals.length < positionals.min || parsed.positionals.length > positionals.max) {
      throw new Error(`expected ${positionals.min === positionals.max ? positionals.min : `${positionals.min} to ${positionals.max}`} argument(s), got ${parsed.positionals.length}`)
    }
    return parsed
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}\n\n${usage}`)
    process.exit(2)
  }
}

/** The services scripts run on: the live layers, configured by the environment over local defaults. */
export const ScriptLayer = withLogging(Logging.stderr).pipe(Layer.provideMerge(LocalConfig.layer))

/**
 * The configured tables must be there before a command reads or writes them: a stopped stack or a
 * missing table is one clear sentence, not a batch of failed records.
 */
export const withTables = <A, E, R>(program: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const tables = yield* Tables
    yield* requireTables([tables.transactions, tables.profiles, tables.rejected])
    return yield* program
  })

/** Runs a script's program; on failure prints its message alone and exits 1. */
export const runScript = async <A, E>(
  program: Effect.Effect<A, E, Layer.Success<typeof ScriptLayer>>
): Promise<A> => {
  const exit = await Effect.runPromiseExit(program.pipe(Effect.provide(ScriptLayer)))
  if (Exit.isSuccess(exit)) return exit.value
  const error = Cause.squash(exit.cause)
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`)
  if (process.env.DEBUG) console.error(Cause.pretty(exit.cause))
  process.exit(1)
}
