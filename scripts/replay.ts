import * as Caller from "@dyna/tools/Caller"
import { Confirm } from "@dyna/tools/Confirm"
import * as Deployment from "@dyna/aws/Deployment"
import * as OnFailureRecords from "@dyna/tools/ops/OnFailureRecords"
import * as Replay from "@dyna/tools/ops/Replay"
import type { OnFailureError } from "@dyna/tools/local/OnFailure"
import { S3, type S3Error } from "@dyna/tools/clients/S3"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { parse, runScript, targetFlags, targetOf, targetUsage, withTables } from "./runScript.js"

const usage = `Usage: pnpm replay [--dry-run] [--yes] [--target local|aws]

Brings back the stream records Lambda gave up on (the on-failure destination: locally
$DYNA_HOME/runner/on-failure.jsonl) and those in the quarantine. Each record names a CustTransactions
row; the row is read as it is now. If it can be counted, its customer is recounted: the total becomes
the sum of the customer's rows, through the handler's own conditional write, which is exact however
old the record is and whether or not part of it was counted before. A replayed record leaves the
quarantine; one whose row is still missing or malformed stays there (a given-up one goes there) with
the reason. Safe to run twice: the second run counts nothing.

Prints one line per record (replayed, kept, skipped, failed) and a summary.

  --dry-run           say what it would do; write nothing
  --yes               on --target aws, write without asking first (otherwise it asks on a terminal,
                      and writes nothing without one)
${targetUsage}

Exit codes: 0 done (records kept in the quarantine are listed above); 1 a record failed for a passing
reason (throttling: run again) or the replay could not start; 2 bad arguments.`

const { values } = parse(usage, { ...targetFlags, "dry-run": { type: "boolean" }, yes: { type: "boolean" } })
const target = targetOf(usage, values)
const dryRun = values["dry-run"] === true

/**
 * The on-failure destination on AWS: the S3 bucket provision made for this deployment. An object that is
 * not an invocation record is named on stderr, never dropped silently; no bucket yet means none given up.
 */
const awsOnFailure = Effect.gen(function*() {
  const bucket = Deployment.onFailureBucketName(target.prefix ?? "", yield* Caller.Caller)
  const read = yield* OnFailureRecords.read(bucket).pipe(
    Effect.catchIf((e) => e.kind === "NotFound", () => Effect.succeed({ records: [], batches: 0, unreadable: [] }))
  )
  for (const u of read.unreadable) yield* Console.error(`unreadable: ${u.source}: ${u.reason}`)
  return read.records
})

const sources: ReadonlyArray<Replay.Source<OnFailureError | S3Error, Caller.Caller | S3>> =
  target.target === "local" ? [Replay.localOnFailure] : [awsOnFailure]

const verb = (outcome: Replay.Outcome, dry: boolean) =>
  outcome._tag === "Replayed" ? (dry ? "would replay" : "replayed") : outcome._tag === "Kept" ? (dry ? "would keep" : "kept") : outcome._tag === "Skipped" ? "skipped" : "failed"

const lineText = (l: Replay.Line, dry: boolean) => {
  const record = l.recordId ?? `${l.source} seq ${l.sequenceNumber ?? "-"}`
  const row = `${l.custId ?? "-"}/${l.tnNum ?? "-"}`
  const why = l.outcome._tag === "Replayed" ? "" : `  ${l.outcome.reason}`
  return `${verb(l.outcome, dry)}  ${record}  ${row}${why}`
}

const summaryText = (report: Replay.Report) => {
  const t = Replay.totals(report)
  const head = report.dryRun ? "Replay (dry run, nothing written)" : "Replay done"
  const would = report.dryRun ? "would be " : ""
  return `${head}: ${t.records} record(s) (${t.fromQuarantine} from the quarantine): ${t.replayed} ${would}replayed, ` +
    `${t.kept} ${would}kept in the quarantine, ${t.skipped} skipped, ${t.failed} failed; ` +
    `${t.customers} customer(s) ${would}recounted, ${t.changed} changed (${t.dollars >= 0 ? "+" : "-"}$${Math.abs(t.dollars)}).`
}

const show = (report: Replay.Report) =>
  Effect.gen(function*() {
    for (const l of report.lines) yield* Console.log(lineText(l, report.dryRun))
    yield* Console.log(summaryText(report))
  })

// On AWS, the plan is shown and agreed to before anything is written, unless --yes.
const askFirst = !dryRun && target.target === "aws" && values.yes !== true

const report = await runScript(
  withTables(Effect.gen(function*() {
    const first = yield* Replay.run({ sources, dryRun: dryRun || askFirst })
    yield* show(first)
    if (!askFirst) return first
    const t = Replay.totals(first)
    const agreed = yield* (yield* Confirm).ask([`recount ${t.customers} customer(s) of ${target.target} and update the quarantine`])
    if (!agreed) {
      yield* Console.error("Nothing written: run again on a terminal and answer yes, or pass --yes.")
      return first
    }
    const done = yield* Replay.run({ sources, dryRun: false })
    yield* show(done)
    return done
  })).pipe(Effect.provide(Confirm.layerFor(values.yes === true)), Effect.provide(S3.layer)),
  target
)
if (Replay.totals(report).failed > 0) process.exit(1)
