import * as LocalConfig from "@dyna/aws/local/LocalConfig"
import { stop } from "@dyna/aws/local/DynamoDbLocal"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { parse, runScript } from "./runScript.js"

parse(`Usage: pnpm local:stop

Stops the background DynamoDB Local that \`pnpm provision\` started (its data stays in .dyna/).`, {})

await runScript(Effect.gen(function*() {
  const { pidFile, endpoint } = yield* LocalConfig.settings
  const result = yield* stop(pidFile)
  yield* Console.log(result === "stopped" ? `DynamoDB Local at ${endpoint} stopped.` : "DynamoDB Local is not running; nothing to stop.")
}))
