import * as Deployment from "@dyna/aws/Deployment"
import { Lambda } from "@dyna/tools/clients/Lambda"
import * as Background from "@dyna/tools/local/Background"
import * as LocalConfig from "@dyna/tools/local/LocalConfig"
import * as LocalInvoke from "@dyna/tools/local/LocalInvoke"
import * as LambdaFunction from "@dyna/tools/provision/LambdaFunction"
import { Tables } from "@dyna/aws/Tables"
import * as Verify from "@dyna/tools/Verify"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { existsSync, readFileSync } from "node:fs"
import { yesFlag } from "./lib/Changes.js"
import { parse, runScript, targetFlags, targetOf, targetUsage, withTables } from "./runScript.js"

const usage = `Usage: pnpm verify [--target local|aws]

Runs the Jam's checks against the deployment and prints PASS or FAIL for each:
  Task 1  invokes the function with events/jam-task1.json; task1test1record must read 250 / Normal
  Task 2  inserts three purchases for a new customer into CustTransactions ($400, $350, $300) and
          waits until CustProfile shows 1050 / Elite, printing the delay it observed
It deletes what it wrote and what the function wrote for it (rows, profile, EliteQualified event).
Exit code 0 only when every check passes.

  --yes, -y           accepted, as by every command that changes something (nothing here needs agreement)
${targetUsage}`

const { values } = parse(usage, { ...targetFlags, ...yesFlag })
const options = targetOf(usage, values)
const acceptanceEvent: unknown = JSON.parse(readFileSync(new URL("../events/jam-task1.json", import.meta.url), "utf8"))

/** The local target: the published bundle, invoked in a fresh process; the runner must be up for Task 2. */
const local = Effect.gen(function*() {
  const { functionFile, endpoint, runner } = yield* LocalConfig.settings
  const tables = yield* Tables
  const environment = { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: endpoint, ...Deployment.functionEnvironment(tables) }
  const invoke: Verify.Invoke<LocalInvoke.InvokeError> = (event) =>
    existsSync(functionFile)
      ? LocalInvoke.invoke(functionFile, environment, event).pipe(Effect.map((invocation) => invocation.response))
      : Effect.fail(new LocalInvoke.InvokeError({ message: `no function published at ${functionFile}; run \`pnpm provision\`` }))
  const notReading = (yield* Background.running(runner.pidFile)) === undefined
    ? "the local runner is not running, so nothing reads the stream; run `pnpm provision`"
    : undefined
  return { invoke, notReading, task2: { timeout: "30 seconds", pollEvery: "10 millis" } } as const
})

/** The AWS target: Lambda's `Invoke`; the mapping may take a while to deliver the first batch. */
const aws = Effect.gen(function*() {
  const lambda = yield* Lambda
  const functionName = Deployment.names(options.prefix).functionName
  const invoke: Verify.Invoke<unknown> = (event) => LambdaFunction.invoke(functionName, event).pipe(Effect.provideService(Lambda, lambda))
  return { invoke, notReading: undefined, task2: { timeout: "3 minutes", pollEvery: "250 millis" } } as const
}).pipe(Effect.provide(Lambda.layer))

const results = await runScript(withTables(Effect.gen(function*() {
  const target = options.target === "local" ? yield* local : yield* aws
  const checks: Array<Verify.CheckResult> = []
  const report = (result: Verify.CheckResult) =>
    Effect.sync(() => checks.push(result)).pipe(
      Effect.andThen(Console.log(`${result.passed ? "PASS" : "FAIL"}  ${result.name}: ${result.detail}`))
    )
  yield* report(yield* Verify.task1(target.invoke, acceptanceEvent))
  yield* report(
    target.notReading === undefined
      ? yield* Verify.task2(target.task2)
      : { name: "Task 2", passed: false, detail: target.notReading }
  )
  return checks
})), options)

const failed = results.filter((r) => !r.passed).length
console.log(failed === 0 ? `All ${results.length} checks passed.` : `${failed} of ${results.length} checks failed.`)
process.exit(failed === 0 ? 0 : 1)
