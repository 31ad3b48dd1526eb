/**
 * What every script shares: flag parsing with `--help`, the local stack's configuration, and one
 * readable line (no stack trace) and exit code 1 when something fails.
 */
import { operations } from "@dyna/aws/AppLayer"
import * as Caller from "@dyna/tools/Caller"
import * as Deployment from "@dyna/aws/Deployment"
import * as Logging from "@dyna/aws/Logging"
import { requireTables } from "@dyna/aws/TableDescription"
import { Tables } from "@dyna/aws/Tables"
import * as Target from "@dyna/tools/Target"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { parseArgs, type ParseArgsConfig } from "node:util"

// The SDK warns on Node 20 that its releases after January 2027 need Node 22. The lockfile pins ours, so
// the notice is nothing a user of these commands can act on; set the variable to "false" to see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true"

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

/** The flags of commands that work on either target. */
export const targetFlags = {
  target: { type: "string", default: "local" },
  region: { type: "string" },
  prefix: { type: "string" }
} as const

export const targetUsage = `  --target local|aws  where to work (default local: DynamoDB Local at AWS_ENDPOINT_URL_DYNAMODB,
                      default http://127.0.0.1:8000); aws uses the SDK's default credentials chain
  --region R          the AWS region (default AWS_REGION, else AWS_DEFAULT_REGION, else the region
                      of the profile in ~/.aws/config, as the AWS CLI finds it; none: an error)
  --prefix P          put P before every resource name (tables, function, role)`

/** Checks the target flags; a wrong one exits 2 with the usage, as any bad argument does. */
export const targetOf = (
  usage: string,
  values: { readonly target?: string | undefined; readonly region?: string | undefined; readonly prefix?: string | undefined }
): Target.Options => {
  if (!Schema.is(Target.Target)(values.target)) {
    console.error(`error: --target must be local or aws, not ${JSON.stringify(values.target)}\n\n${usage}`)
    process.exit(2)
  }
  const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB
  if (values.target === "aws" && endpoint !== undefined && endpoint !== "") {
    // The SDK itself honours it, so AWS-target DynamoDB calls would silently go elsewhere.
    console.error(`note: AWS_ENDPOINT_URL_DYNAMODB is set, so DynamoDB calls go to ${endpoint}, not AWS; unset it to reach your account`)
  }
  return { target: values.target, region: values.region, prefix: values.prefix }
}

/**
 * The services scripts run on: the tools' live layers (`AppLayer.operations`), configured for the target, and the `Caller` (on AWS,
 * STS's answer in the region resolved once for the command; locally, DynamoDB Local's stand-in).
 */
export const scriptLayer = (options: Target.Options = { target: "local" }) =>
  operations(Logging.stderr).pipe(
    Layer.provideMerge(options.target === "aws" ? Caller.Caller.layer : Caller.Caller.local),
    Layer.provideMerge(Target.layer(options))
  )

export type ScriptServices = Layer.Success<ReturnType<typeof scriptLayer>>

/**
 * The configured tables must be there before a command reads or writes them: a stopped stack or a
 * missing table is one clear sentence, not a batch of failed records.
 */
export const withTables = <A, E, R>(program: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const tables = yield* Tables
    yield* requireTables(Deployment.tableNames(tables))
    return yield* program
  })

/** On AWS, who and where, on stderr before the program changes anything. */
const announce = (options: Target.Options | undefined) =>
  Effect.gen(function*() {
    if (options?.target !== "aws") return
    const caller = yield* Caller.Caller
    yield* Effect.sync(() => console.error(Caller.describe(caller)))
  })

/**
 * Runs a script's program on the target (local by default); on AWS it first prints the account, the
 * caller and the region. On failure prints its message alone and exits 1.
 */
export const runScript = async <A, E>(
  program: Effect.Effect<A, E, ScriptServices>,
  options?: Target.Options
): Promise<A> => {
  const exit = await Effect.runPromiseExit(
    announce(options).pipe(Effect.andThen(program), Effect.provide(scriptLayer(options)))
  )
  if (Exit.isSuccess(exit)) return exit.value
  const error = Cause.squash(exit.cause)
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`)
  if (process.env.DEBUG) console.error(Cause.pretty(exit.cause))
  process.exit(1)
}
