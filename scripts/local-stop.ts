import * as Background from "@dyna/tools/local/Background"
import * as Home from "@dyna/tools/local/Home"
import * as LocalConfig from "@dyna/tools/local/LocalConfig"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { yesFlag } from "./lib/Changes.js"
import { parse, runScript } from "./runScript.js"

parse(`Usage: pnpm local:stop

Stops the local stack's background processes that \`pnpm provision\` started: the runner, then
DynamoDB Local. Data, the published function and the runner's checkpoints stay in .dyna/, so the
next \`pnpm provision\` carries on where this left off. A DYNA_HOME that \`pnpm provision\` did not
make (it has no ${Home.MARKER} file) is left alone: no process named in it is stopped.

  --yes, -y           accepted, as by every command that changes something (nothing here needs agreement)`, yesFlag)

await runScript(Effect.gen(function*() {
  const { home, pidFile, endpoint, runner } = yield* LocalConfig.settings
  // The pid files of a folder that is not ours could name any process of the user's.
  yield* Home.requireOurs(home)
  const runnerStopped = yield* Background.stop(runner.pidFile)
  yield* Console.log(runnerStopped === "stopped" ? "Runner stopped." : "Runner is not running.")
  const dbStopped = yield* Background.stop(pidFile)
  yield* Console.log(dbStopped === "stopped" ? `DynamoDB Local at ${endpoint} stopped.` : "DynamoDB Local is not running (or is not ours to stop).")
}))
