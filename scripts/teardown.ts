import { localTeardownSteps } from "@dyna/aws/provision/LocalTeardown"
import { runAll } from "@dyna/aws/provision/Step"
import * as Effect from "effect/Effect"
import { parse, runScript, targetFlags, targetOf, targetUsage } from "./runScript.js"

const usage = `Usage: pnpm teardown [--target local|aws] [--delete-data]

Removes what \`pnpm provision\` created, step by step: the stream mapping (the local runner), the
function, and on the local target stops DynamoDB Local, so no process of ours is left. The tables
and the rows in them stay unless --delete-data says otherwise.

  --delete-data       also delete the CustTransactions, CustProfile and quarantine tables
${targetUsage}`

const { values } = parse(usage, { ...targetFlags, "delete-data": { type: "boolean", default: false } })
const options = targetOf(usage, values)
await runScript(Effect.flatMap(localTeardownSteps({ deleteData: values["delete-data"] }), runAll), options)
