import * as Deployment from "@dyna/aws/Deployment"
import * as Background from "@dyna/aws/local/Background"
import * as LocalConfig from "@dyna/aws/local/LocalConfig"
import * as LocalInvoke from "@dyna/aws/local/LocalInvoke"
import { Tables } from "@dyna/aws/Tables"
import * as Verify from "@dyna/aws/Verify"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { parse, runScript, targetFlags, targetOf, targetUsage, withTables } from "./runScript.js"

const usage = `Usage: pnpm verify [--target local|aws]

Runs the Jam's checks against the deployment and prints PASS or FAIL for each:
  Task 1  invokes the function with events/jam-task1.json; task1test1record must read 250 / Normal
  Task 2  inserts three purchases for a new customer into CustTransactions ($400, $350, $300) and
          waits until CustProfile shows 1050 / Elite, printing the delay it observed
It deletes the rows it wrote. Exit code 0 only when every check passes.

${targetUsage}`

const { values } = parse(usage, targetFlags)
const options = targetOf(usage, values)
const acceptanceEvent: unknown = JSON.parse(readFileSync(new URL("../events/jam-task1.json", import.meta.url), "utf8"))

/** Invoking the function where the target has it: the published bundle in a fresh process, locally. */
const localInvoke = Effect.gen(function*() {
  const { functionDir, endpoint, runner } = yield* LocalConfig.settings
  const tables = yield* Tables
  const functionFile = join(functionDir, Deployment.functionSettings.fileName)
  const environment = { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: endpoint, ...Deployment.functionEnvironment(tables) }
  const invoke: Verify.Invoke<LocalInvoke.InvokeError> = (event) =>
    existsSync(functionFile)
      ? LocalInvoke.invoke(functionFile, environment, event).pipe(Effect.map((invocation) => invocation.response))
      : Effect.fail(new LocalInvoke.InvokeError({ message: `no function published at ${functionFile}; run \`pnpm provision\`` }))
  const runnerPid = yield* Background.running(runner.pidFile)
  return { invoke, runnerPid }
})

const results = await runScript(withTables(Effect.gen(function*() {
  const { invoke, runnerPid } = yield* localInvoke
  const checks: Array<Verify.CheckResult> = []
  const report = (result: Verify.CheckResult) =>
    Console.log(`${result.passed ? "PASS" : "FAIL"}  ${result.name}: ${result.detail}`).pipe(Effect.as(checks.push(result)))
  yield* report(yield* Verify.task1(invoke, acceptanceEvent))
  yield* report(
    runnerPid === undefined
      ? { name: "Task 2", passed: false, detail: "the local runner is not running, so nothing reads the stream; run `pnpm provision`" }
      : yield* Verify.task2({ timeout: "30 seconds", pollEvery: "10 millis" })
  )
  return checks
})), options)

const failed = results.filter((r) => !r.passed).length
console.log(failed === 0 ? `All ${results.length} checks passed.` : `${failed} of ${results.length} checks failed.`)
process.exit(failed === 0 ? 0 : 1)
