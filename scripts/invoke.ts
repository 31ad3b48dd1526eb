import * as Batch from "@dyna/aws/Batch"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { readFileSync } from "node:fs"
import { yesFlag } from "./lib/Changes.js"
import { parse, runScript, withTables } from "./runScript.js"

const { positionals } = parse(`Usage: pnpm invoke <event.json>

Runs the Lambda handler once, here, with the stream event in the file, against the configured
tables (DynamoDB Local by default), and prints its response. Try: pnpm invoke events/jam-task1.json

  --yes, -y           accepted, as by every command that changes something (nothing here needs agreement)`, yesFlag, {
  min: 1,
  max: 1
})
const file = positionals[0] ?? ""

let event: unknown
try {
  event = JSON.parse(readFileSync(file, "utf8"))
} catch (error) {
  console.error(`error: cannot read ${file} as JSON: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(2)
}

// stdout is the response alone; the invocation's metrics line (EMF, what Lambda would ship to CloudWatch) goes to stderr.
const metricsToStderr: Console.Console = { ...globalThis.console, log: (...args: ReadonlyArray<unknown>) => globalThis.console.error(...args) }

await runScript(
  withTables(Batch.handle(event)).pipe(
    Effect.provideService(Console.Console, metricsToStderr),
    Effect.flatMap((response) => Console.log(JSON.stringify(response)))
  )
)
