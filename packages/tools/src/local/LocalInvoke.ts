/**
 * The local `Invoke`: runs the published function once in a fresh Node process, as Lambda runs it
 * cold, with the function's environment, and returns its response. The function's own log lines
 * (stdout, stderr) are kept apart from the response, which comes back on a pipe of its own.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { spawn } from "node:child_process"
import type { Readable } from "node:stream"

export class InvokeError extends Schema.TaggedError<InvokeError>()("InvokeError", { message: Schema.String }) {}

// Reads the event on stdin, calls `handler`, writes `{ response }` or `{ error }` to fd 3.
const bootstrap = `
import { readFileSync, writeSync } from "node:fs"
import { pathToFileURL } from "node:url"
const event = JSON.parse(readFileSync(0, "utf8"))
let out
try {
  const { handler } = await import(pathToFileURL(process.argv[1]).href)
  out = { response: (await handler(event, {})) ?? null }
} catch (e) {
  out = { error: { errorType: e?.name ?? "Error", errorMessage: e?.message ?? String(e) } }
}
writeSync(3, JSON.stringify(out))
process.exit(0)
`

const Outcome = Schema.fromJsonString(Schema.Union([
  Schema.Struct({ response: Schema.Unknown }),
  Schema.Struct({ error: Schema.Struct({ errorType: Schema.String, errorMessage: Schema.String }) })
]))

const collect = (stream: Readable | null) => {
  const chunks: Array<Buffer> = []
  stream?.on("data", (chunk: Buffer) => chunks.push(chunk))
  return () => Buffer.concat(chunks).toString("utf8")
}

export interface Invocation {
  readonly response: unknown
  /** What the function logged. */
  readonly logs: string
}

/** Invokes `functionFile`'s `handler` with `event`; a thrown error is an `InvokeError`, as Lambda's `FunctionError`. */
export const invoke = (functionFile: string, environment: Readonly<Record<string, string | undefined>>, event: unknown) =>
  Effect.callback<{ readonly code: number | null; readonly result: string; readonly logs: string }, InvokeError>((resume) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", bootstrap, functionFile], {
      env: environment,
      stdio: ["pipe", "pipe", "pipe", "pipe"]
    })
    const stdout = collect(child.stdout)
    const stderr = collect(child.stderr)
    const result = collect(child.stdio[3] as Readable | null)
    child.once("error", (error) => resume(Effect.fail(new InvokeError({ message: `cannot start node: ${error.message}` }))))
    child.once("close", (code) => resume(Effect.succeed({ code, result: result(), logs: `${stdout()}${stderr()}` })))
    child.stdin?.end(JSON.stringify(event))
  }).pipe(
    Effect.flatMap(({ code, logs, result }) =>
      Schema.decodeUnknownEffect(Outcome)(result).pipe(
        Effect.mapError(() =>
          new InvokeError({ message: `the function process exited (code ${code}) without a response:\n${logs.trimEnd()}` })
        ),
        Effect.flatMap((outcome): Effect.Effect<Invocation, InvokeError> =>
          "error" in outcome
            ? Effect.fail(new InvokeError({ message: `the function failed: ${outcome.error.errorType}: ${outcome.error.errorMessage}` }))
            : Effect.succeed({ response: outcome.response, logs })
        )
      )
    )
  )
