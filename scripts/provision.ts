import * as Caller from "@dyna/tools/Caller"
import * as Deployment from "@dyna/aws/Deployment"
import * as Alarms from "@dyna/tools/provision/Alarms"
import * as AwsSteps from "@dyna/tools/provision/AwsSteps"
import { localStepsWith } from "@dyna/tools/provision/LocalSteps"
import * as LogRetention from "@dyna/tools/provision/LogRetention"
import * as OperatorPolicy from "@dyna/tools/provision/OperatorPolicy"
import * as Run from "@dyna/tools/provision/Run"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { confirmLayer, planFlag, planUsage, yesFlag, yesUsage } from "./lib/Changes.js"
import { badArgument, orExit, wholeNumber } from "./lib/Flags.js"
import { parse, runScript, targetFlags, targetOf, targetUsage } from "./runScript.js"

const usage = `Usage: pnpm provision [--target local|aws] [--region R] [--prefix P] [--plan] [--yes]
                      [--alarm-topic ARN] [--alarm-threshold KEY=N ...] [--log-retention-days N]
                      [--parallelization N]
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
  --parallelization N batches of one shard delivered at once (1 to 10, default ${Deployment.mappingSettings.parallelizationFactor}; the
                      mapping's ParallelizationFactor, obeyed by the local runner too): one item's records
                      stay in order, a customer's may be in two batches at once (the conditional write
                      keeps that exact)
  --alarm-topic ARN   (aws) an SNS topic you already have: the alarms notify it when they go off and
                      when they are OK again (by default they only show in the CloudWatch console)
  --alarm-threshold KEY=N
                      (aws) change an alarm's threshold; may be given more than once. KEY is one of
                      iterator-age (seconds behind, every minute for 5 minutes; default 60), errors,
                      quarantined, given-up, throttles (how many in 5 minutes; default 1 each)
  --log-retention-days N
                      (aws) how long the function's log group keeps events (default 30; one of
                      ${LogRetention.RETENTION_DAYS.slice(0, 12).join(", ")},
                      ${LogRetention.RETENTION_DAYS.slice(12).join(", ")})
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
  "quarantine-days": { type: "string" },
  "alarm-topic": { type: "string" },
  "alarm-threshold": { type: "string", multiple: true },
  "log-retention-days": { type: "string" },
  parallelization: { type: "string" }
})
const options = targetOf(usage, values)
const quarantineDays = orExit(usage, wholeNumber("quarantine-days", values["quarantine-days"], { min: 1, max: 3650 }, Deployment.defaultFunctionOptions.quarantineDays))
const parallelizationFactor = orExit(usage, wholeNumber("parallelization", values.parallelization, { min: 1, max: 10 }, Deployment.mappingSettings.parallelizationFactor))
const checked = <A>(result: Result.Result<A, string>) => orExit(usage, Result.isSuccess(result) ? { ok: true, value: result.success } : { ok: false, problem: result.failure })
const topic = values["alarm-topic"]
if (topic !== undefined && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/.test(topic)) {
  badArgument(usage, `--alarm-topic must be an SNS topic's ARN (arn:aws:sns:REGION:ACCOUNT:NAME), not ${JSON.stringify(topic)}`)
}
const monitoring: AwsSteps.Monitoring = {
  thresholds: checked(Alarms.parseThresholds(values["alarm-threshold"] ?? [])),
  topic,
  logRetentionDays: checked(LogRetention.checkDays(values["log-retention-days"]))
}
const names = Deployment.names(options.prefix)

const printPolicy = (location: Deployment.Location) =>
  Console.log(OperatorPolicy.render(OperatorPolicy.document(location, names)))

const steps = <E, R>(all: ReadonlyArray<import("@dyna/tools/provision/Step").Step<E, R>>) => (values.plan ? Run.plan(all) : Run.runAll(all))

if (values["print-operator-policy"]) {
  if (options.target === "aws") await runScript(Effect.flatMap(Caller.Caller, printPolicy), options)
  else await Effect.runPromise(printPolicy(OperatorPolicy.anywhere()))
} else if (options.target === "local") {
  await runScript(Effect.flatMap(localStepsWith({ parallelizationFactor }), steps).pipe(Effect.provide(confirmLayer(values.yes))), options)
} else {
  await runScript(
    Effect.gen(function*() {
      const location = yield* Caller.Caller
      return yield* steps(yield* AwsSteps.awsSteps({ names, location, function: { quarantineDays }, monitoring, parallelizationFactor }))
    }).pipe(Effect.provide(AwsSteps.layer), Effect.provide(confirmLayer(values.yes))),
    options
  )
}
