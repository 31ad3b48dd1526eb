import * as Caller from "@dyna/tools/Caller"
import * as Deployment from "@dyna/aws/Deployment"
import * as AwsSteps from "@dyna/tools/provision/AwsSteps"
import { localSteps } from "@dyna/tools/provision/LocalSteps"
import * as OperatorPolicy from "@dyna/tools/provision/OperatorPolicy"
import * as Run from "@dyna/tools/provision/Run"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { confirmLayer, planFlag, planUsage, yesFlag, yesUsage } from "./lib/Changes.js"
import { orExit, wholeNumber } from "./lib/Flags.js"
import { parse, runScript, targetFlags, targetOf, targetUsage } from "./runScript.js"

const usage = `Usage: pnpm provision [--target local|aws] [--region R] [--prefix P] [--plan] [--yes]
       pnpm provision --print-operator-policy [--target aws [--region R]] [--prefix P]

Takes you from nothing to a working pipeline, step by step, and is safe to run again: each step
describes what exists, then says whether it created, updated or left it unchanged. Every step is
decided first; a change that would replace or displace what provision did not create (the Jam's
KEYS_ONLY stream, its function's code, its mapping) is shown and asked for before anything changes.

  local (default)  DynamoDB Local (started in the background if nothing listens at the endpoint;
                   data in .dyna/), the CustTransactions table and its NEW_IMAGE stream, CustProfile,
                   the CustTransactionsRejected quarantine, CustEliteEvents (one item per promotion),
                   the function bundled by esbuild into
                   .dyna/function/index.mjs, and the local runner reading the stream into it
                   (\`pnpm local:logs\` shows what it does).
  aws              the same tables and stream in your account, the function's role and
                   least-privilege policy, the bundled function JAM_Lambda_Exec_Function_EDIT_THIS
                   (${Deployment.functionSettings.runtime}), and the event source mapping from the stream to it. Existing tables
                   and an existing function (the Jam's) are adopted, never recreated; the function's
                   code is saved as a version before ours replaces it. It first prints the account,
                   the caller and the region it works in.

${planUsage}
${yesUsage}
  --quarantine-days N how long the quarantine keeps a record set aside (1 to 3650, default 30; the
                      function's QUARANTINE_DAYS, DynamoDB's TTL deletes it after that)
  --print-operator-policy
                      print the least-privilege IAM policy an operator needs to run provision, teardown
                      and the operations commands on AWS (with --target aws, for your account and
                      region; otherwise with * for them), and exit
${targetUsage}`

const { values } = parse(usage, {
  ...targetFlags,
  ...planFlag,
  ...yesFlag,
  "print-operator-policy": { type: "boolean", default: false },
  "quarantine-days": { type: "string" }
})
const options = targetOf(usage, values)
const quarantineDays = orExit(usage, wholeNumber("quarantine-days", values["quarantine-days"], { min: 1, max: 3650 }, Deployment.defaultFunctionOptions.quarantineDays))
const names = Deployment.names(options.prefix)

const printPolicy = (location: Deployment.Location) =>
  Console.log(OperatorPolicy.render(OperatorPolicy.document(location, names)))

const steps = <E, R>(all: ReadonlyArray<import("@dyna/tools/provision/Step").Step<E, R>>) => (values.plan ? Run.plan(all) : Run.runAll(all))

if (values["print-operator-policy"]) {
  if (options.target === "aws") await runScript(Effect.flatMap(Caller.Caller, printPolicy), options)
  else await Effect.runPromise(printPolicy(OperatorPolicy.anywhere()))
} else if (options.target === "local") {
  await runScript(Effect.flatMap(localSteps, steps).pipe(Effect.provide(confirmLayer(values.yes))), options)
} else {
  await runScript(
    Effect.gen(function*() {
      const location = yield* Caller.Caller
      return yield* steps(yield* AwsSteps.awsSteps({ names, location, function: { quarantineDays } }))
    }).pipe(Effect.provide(AwsSteps.layer), Effect.provide(confirmLayer(values.yes))),
    options
  )
}
