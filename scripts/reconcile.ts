import * as Reconcile from "@dyna/tools/ops/Reconcile"
import * as Scan from "@dyna/tools/ops/Scan"
import { Tables } from "@dyna/aws/Tables"
import * as Drift from "@dyna/core/Drift"
import { CustomerId } from "@dyna/core/Transaction"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Flags from "./lib/Flags.js"
import { count, number, seconds } from "@dyna/tools/Format"
import * as Progress from "./lib/Progress.js"
import { Confirm } from "@dyna/tools/Confirm"
import { confirmLayer, yesFlag } from "./lib/Changes.js"
import { parse, runScript, targetFlags, targetOf, targetUsage, withTables } from "./runScript.js"

const settleSeconds = Duration.toMillis(Reconcile.DEFAULT_SETTLE) / 1000

const usage = `Usage: pnpm reconcile [--repair] [--customer ID] [--segments N] [--settle S] [--target local|aws]

Recomputes each customer's total from CustTransactions (the source of truth) and compares it with
CustProfile, status included. Prints every difference on stdout, one line each:

  CUST-1  stored 950 Normal  computed 1050 Elite  (total, status)

The kinds: total (the stored total is not the sum of the rows), status (not what the Elite rule gives),
missing profile (rows but no profile), no rows (a profile with a total but no rows), unreadable (a row
or profile that cannot be read, named with the attribute at fault).

Safe while the stream runs. Parallel Scans find candidates; each is then checked precisely (profile,
then rows, strongly consistent) and, while it still differs, again every settle interval, ${Reconcile.DEFAULT_CHECKS} checks at
most. A difference the stream closes within the settle time is lag, not drift, and is not reported.

  --repair           set each drifted profile right, through the handler's own conditional write
                     (total from the rows, status from the rule), then check it again. Safe beside
                     the stream: a racing increment either lands first and is included, or makes
                     the repair read again; never a wrong total. Unreadable rows are not repaired.
                     The drift is shown first and the repair asked for on a terminal; without
                     one it needs --yes, else nothing is written.
  --yes, -y          repair without asking (on a terminal it asks; without one, --repair needs it)
  --customer ID      only this customer: no Scan, the same precise checks (and repair)
  --segments N       Scan each table with N parallel segments (default ${Reconcile.DEFAULT_SEGMENTS})
  --settle S         seconds between precise checks of a difference (default ${settleSeconds}; 0 to 60)
${targetUsage}

Shows a progress bar (items, rate, ETA) on stderr while scanning; ends with a one-line summary on
stdout: customers and rows checked, time, rate, drifted, repaired, closed by the stream (lag).

Exit codes: 0 no drift, or every drifted profile repaired; 1 drift remains (or reconcile failed:
DynamoDB unreachable, a table missing); 2 bad arguments.`

const { values } = parse(usage, {
  ...targetFlags,
  repair: { type: "boolean", default: false },
  customer: { type: "string" },
  segments: { type: "string" },
  settle: { type: "string" },
  ...yesFlag
})
const target = targetOf(usage, values)

const segments = Flags.orExit(usage, Flags.segments(values.segments, Reconcile.DEFAULT_SEGMENTS))

const settle = Flags.orExit(usage, Flags.seconds("settle", values.settle, 60, Reconcile.DEFAULT_SETTLE))

const customer = values.customer === undefined
  ? undefined
  : Schema.is(CustomerId)(values.customer)
  ? values.customer
  : Flags.badArgument(usage, "--customer must be a non-empty CustID")

const outcome = (repair: Reconcile.Repair | undefined) =>
  repair === undefined ? "" : repair._tag === "Repaired" ? "  -> repaired" : `  -> not repaired: ${repair.reason}`

const summaryLine = (s: Reconcile.Summary, repair: boolean) => {
  const lag = Reconcile.lag(s)
  const closed = lag === 0 ? [] : [`${number(lag)} closed by the stream (lag)`]
  const drift = s.findings.length === 0
    ? ["no drift"]
    : [
      `${number(s.findings.length)} drifted`,
      ...(repair ? [`${number(Reconcile.repaired(s))} repaired`] : []),
      ...(repair && Reconcile.remaining(s) > 0 ? [`${number(Reconcile.remaining(s))} not repaired`] : [])
    ]
  return `Reconcile: ${count(s.customers, "customer", "customers")}, ${count(s.rows, "row", "rows")} checked in ` +
    `${seconds(s.elapsedMillis)} (${number(Reconcile.rowsPerSecond(s))} rows/s): ${[...drift, ...closed].join(", ")}.`
}

const summary = await runScript(
  withTables(Effect.gen(function*() {
    const tables = yield* Tables
    const progress = customer === undefined
      ? yield* Effect.gen(function*() {
        // Exact on DynamoDB Local; on AWS refreshed about every six hours, so the bar is a guide there.
        const counts = yield* Effect.all([Scan.approximateCount(tables.transactions), Scan.approximateCount(tables.profiles)]).pipe(
          Effect.orElseSucceed(() => [undefined, undefined] as const)
        )
        const total = counts[0] === undefined || counts[1] === undefined ? undefined : counts[0] + counts[1]
        return Progress.make({ label: "reconcile", unit: "items", ...(total === undefined ? {} : { total }) })
      })
      : undefined
    const check = (repair: boolean) =>
      Reconcile.run({
        repair,
        customer,
        segments,
        settle,
        onScanned: (n) => Effect.sync(() => progress?.advance(n)),
        onCandidates: (n) =>
          Effect.gen(function*() {
            progress?.finish()
            if (n > 0) yield* Console.error(`reconcile: ${count(n, "difference", "differences")} to check precisely (settle ${Duration.format(Duration.fromInputUnsafe(settle))})`)
          })
      }).pipe(Effect.ensuring(Effect.sync(() => progress?.finish())))
    // A repair rewrites profiles: the drift is found first, and the repair is agreed to (or --yes) before any write.
    const found = yield* check(values.repair && values.yes)
    const agreed = !values.repair || values.yes || found.findings.length === 0 ||
      (yield* (yield* Confirm).ask([`repair ${count(found.findings.length, "drifted profile", "drifted profiles")} on ${target.target}`]))
    if (values.repair && !agreed) {
      yield* Console.error(`not repaired: ${count(found.findings.length, "drifted profile needs", "drifted profiles need")} your agreement; run it on a terminal to be asked, or pass --yes`)
    }
    const repairing = values.repair && agreed
    const result = repairing && !values.yes && found.findings.length > 0 ? yield* check(true) : found
    const width = Math.max(0, ...result.findings.map((f) => f.difference.custId.length))
    for (const f of result.findings) yield* Console.log(`${Drift.format(f.difference, width)}${outcome(f.repair)}`)
    if (customer !== undefined && result.rows === 0 && result.profiles === 0 && result.findings.length === 0) {
      yield* Console.error(`no profile and no rows for CustID ${JSON.stringify(customer)}`)
    }
    yield* Console.log(summaryLine(result, repairing))
    return result
  })).pipe(Effect.provide(confirmLayer(values.yes))),
  target
)
if (Reconcile.remaining(summary) > 0) process.exit(1)
