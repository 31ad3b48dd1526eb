import * as Deployment from "@dyna/aws/Deployment"
import * as Caller from "@dyna/tools/Caller"
import * as AwsTeardown from "@dyna/tools/provision/AwsTeardown"
import { localTeardownSteps } from "@dyna/tools/provision/LocalTeardown"
import * as Run from "@dyna/tools/provision/Run"
import type { Step } from "@dyna/tools/provision/Step"
import * as Effect from "effect/Effect"
import { confirmLayer, planFlag, planUsage, yesFlag, yesUsage } from "./lib/Changes.js"
import { parse, runScript, targetFlags, targetOf, targetUsage } from "./runScript.js"

const usage = `Usage: pnpm teardown [--target local|aws] [--delete-data [--force-delete-data]] [--plan] [--yes]

Removes what \`pnpm provision\` created, step by step: the stream mapping (locally, the runner),
the function, our policy and role, and on the local target stops DynamoDB Local, so no process of
ours is left. Only what this deployment created is removed (on AWS: what carries its owner tag); a
function, role, mapping or table that was there before provision (the Jam's) is kept and named. The
tables and their rows stay unless --delete-data.

  --delete-data       also delete the tables provision created (CustTransactions, CustProfile, the
                      quarantine, CustEliteEvents, where provision made them); a table with items is
                      backed up first (AWS: an on-demand backup, its ARN printed; locally a file in
                      .dyna/backups/), and deleting it is asked for (or --yes)
  --force-delete-data with --delete-data, also the tables that were there before provision (the
                      Jam's CustTransactions, the source of truth), backed up the same way
${planUsage}
${yesUsage}
${targetUsage}`

const { values } = parse(usage, {
  ...targetFlags,
  ...planFlag,
  ...yesFlag,
  "delete-data": { type: "boolean", default: false },
  "force-delete-data": { type: "boolean", default: false }
})
const options = targetOf(usage, values)
if (values["force-delete-data"] && !values["delete-data"]) {
  console.error(`error: --force-delete-data goes with --delete-data\n\n${usage}`)
  process.exit(2)
}
const removal = { deleteData: values["delete-data"], forceDeleteData: values["force-delete-data"] }
const run = <E, R>(steps: ReadonlyArray<Step<E, R>>) => (values.plan ? Run.plan(steps) : Run.runAll(steps, Run.ALREADY_GONE))

if (options.target === "local") {
  await runScript(Effect.flatMap(localTeardownSteps(removal), run).pipe(Effect.provide(confirmLayer(values.yes))), options)
} else {
  await runScript(
    Effect.gen(function*() {
      const location = yield* Caller.Caller
      return yield* run(AwsTeardown.awsTeardownSteps({ names: Deployment.names(options.prefix), location }, removal))
    }).pipe(Effect.provide(AwsTeardown.layer), Effect.provide(confirmLayer(values.yes))),
    options
  )
}
