import { runAll } from "@dyna/aws/provision/Step"
import { localSteps } from "@dyna/aws/provision/LocalSteps"
import * as Effect from "effect/Effect"
import { parse, runScript } from "./runScript.js"

const usage = `Usage: pnpm provision [--target local]

Sets up the pipeline, step by step, and is safe to run again: each step says whether it
created, updated or left a resource unchanged.

  --target local   (default) DynamoDB Local at AWS_ENDPOINT_URL_DYNAMODB (default
                   http://127.0.0.1:8000), started in the background if nothing listens
                   there, with its data in .dyna/; then the CustTransactions table and its
                   NEW_IMAGE stream, CustProfile, and the CustTransactionsRejected quarantine.
  -h, --help       this text

Table names come from TRANSACTIONS_TABLE, PROFILES_TABLE and REJECTED_TABLE.`

const { values } = parse(usage, { target: { type: "string", default: "local" } })
if (values.target !== "local") {
  console.error(`error: --target ${values.target} is not available yet; only the local target is (default)`)
  process.exit(2)
}
await runScript(Effect.flatMap(localSteps, runAll))
