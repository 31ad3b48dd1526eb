import * as AwsSteps from "@dyna/aws/provision/AwsSteps"
import { localSteps } from "@dyna/aws/provision/LocalSteps"
import { runAll } from "@dyna/aws/provision/Step"
import * as Target from "@dyna/aws/Target"
import * as Effect from "effect/Effect"
import { parse, runScript, targetFlags, targetOf, targetUsage } from "./runScript.js"

const usage = `Usage: pnpm provision [--target local|aws] [--region R] [--prefix P]

Takes you from nothing to a working pipeline, step by step, and is safe to run again: each step
describes what exists, then says whether it created, updated or left it unchanged.

  local (default)  DynamoDB Local (started in the background if nothing listens at the endpoint;
                   data in .dyna/), the CustTransactions table and its NEW_IMAGE stream, CustProfile,
                   the CustTransactionsRejected quarantine, CustEliteEvents (one item per promotion),
                   the function bundled by esbuild into
                   .dyna/function/index.mjs, and the local runner reading the stream into it
                   (\`pnpm local:logs\` shows what it does).
  aws              the same tables and stream in your account, the function's role and
                   least-privilege policy, the bundled function JAM_Lambda_Exec_Function_EDIT_THIS
                   (nodejs22.x), and the event source mapping from the stream to it. Existing tables
                   and an existing function (the Jam's) are adopted, never recreated.

${targetUsage}`

const { values } = parse(usage, targetFlags)
const options = targetOf(usage, values)
if (options.target === "local") await runScript(Effect.flatMap(localSteps, runAll), options)
else await runScript(runAll(AwsSteps.awsSteps(Target.names(options))).pipe(Effect.provide(AwsSteps.layer)), options)
