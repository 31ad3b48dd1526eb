import * as AwsTeardown from "@dyna/aws/provision/AwsTeardown"
import { localTeardownSteps } from "@dyna/aws/provision/LocalTeardown"
import { ALREADY_GONE, runAll } from "@dyna/aws/provision/Step"
import * as Target from "@dyna/aws/Target"
import * as Effect from "effect/Effect"
import { parse, runScript, targetFlags, targetOf, targetUsage } from "./runScript.js"

const usage = `Usage: pnpm teardown [--target local|aws] [--delete-data]

Removes what \`pnpm provision\` created, step by step: the stream mapping (locally, the runner),
the function, our policy and role, and on the local target stops DynamoDB Local, so no process of
ours is left. On AWS a function or role that was there before provision (the Jam's) is kept; only
the mapping and our policy are removed from it. The tables and their rows stay unless --delete-data.

  --delete-data       also delete the CustTransactions, CustProfile and quarantine tables
${targetUsage}`

const { values } = parse(usage, { ...targetFlags, "delete-data": { type: "boolean", default: false } })
const options = targetOf(usage, values)
const deleteData = values["delete-data"]
if (options.target === "local") await runScript(Effect.flatMap(localTeardownSteps({ deleteData }), (steps) => runAll(steps, ALREADY_GONE)), options)
else {
  await runScript(
    runAll(AwsTeardown.awsTeardownSteps(Target.names(options), { deleteData }), ALREADY_GONE).pipe(Effect.provide(AwsTeardown.layer)),
    options
  )
}
