import * as Deployment from "@dyna/aws/Deployment"
import { DynamoDbStreams } from "@dyna/tools/clients/DynamoDbStreams"
import { Lambda } from "@dyna/tools/clients/Lambda"
import * as Status from "@dyna/tools/ops/Status"
import * as StatusScreen from "@dyna/tools/ops/StatusScreen"
import * as Effect from "effect/Effect"
import { parse, runScript, targetFlags, targetOf, targetUsage } from "./runScript.js"

const usage = `Usage: pnpm status [--target local|aws] [--json]

One screen on the deployment, read-only, ending with a one-line summary (OK: … or ATTENTION: …):
  Tables       each table's item count (DescribeTable; on AWS approximate, refreshed about every 6 h)
  Stream       CustTransactions' stream: view type, status, shards
  Mapping      local: the runner process and what it delivered; aws: the function and its event
               source mapping (state, last processing result, batch size)
  Lag          local: records on the stream past the runner's checkpoints and the age of the oldest;
               aws: not measured (see the function's IteratorAge metric in CloudWatch)
  Last hour    what the function did in the last hour: records applied, duplicates, quarantined,
               promotions, retried; local: summed from its metrics lines in .dyna/runner.log;
               aws: named (namespace DynaElite, dimension FunctionName in CloudWatch)
  Quarantined  records in CustTransactionsRejected; On-failure: records the runner gave up on
               (.dyna/runner/on-failure.jsonl), or on AWS the mapping's on-failure destination
  Elite        CustProfile items with TotalTnValue of $1,000 or more (a Scan with a filter)

The quarantine and Elite counts Scan their tables, which on AWS is billed per item read.
Exit code 0 when all is well; 1 when something needs attention (a missing table or stream, the runner
not running or not reporting, records waiting over a minute, the mapping missing or not Enabled) or
DynamoDB cannot be reached; 2 for a bad argument.

  --json              print the report as one JSON object (with "attention" and "summary") instead
${targetUsage}`

const { values } = parse(usage, { ...targetFlags, json: { type: "boolean" } })
const options = targetOf(usage, values)

const gather = options.target === "local"
  ? Status.local()
  : Status.aws(Deployment.names(options.prefix).functionName).pipe(Effect.provide(Lambda.layer))

const report = await runScript(gather.pipe(Effect.provide(DynamoDbStreams.layer)), options)
console.log(
  values.json === true
    ? JSON.stringify({ ...report, summary: StatusScreen.summary(report) }, null, 2)
    : `${StatusScreen.render(report)}\n${StatusScreen.summary(report)}`
)
process.exitCode = report.attention.length === 0 ? 0 : 1
