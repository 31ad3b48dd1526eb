import * as Backfill from "@dyna/tools/ops/Backfill"
import * as Scan from "@dyna/tools/ops/Scan"
import { Tables } from "@dyna/aws/Tables"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Flags from "./lib/Flags.js"
import { count, number, seconds } from "@dyna/tools/Format"
import * as Progress from "./lib/Progress.js"
import { yesFlag } from "./lib/Changes.js"
import { parse, runScript, targetFlags, targetOf, targetUsage, withTables } from "./runScript.js"

const usage = `Usage: pnpm backfill [--segments N] [--concurrency N] [--target local|aws]

Counts the transactions already in CustTransactions that the stream never delivered (rows written
before the stream existed), exactly once. A parallel Scan finds every customer with a row; each is
recounted as soon as it is found, through the same conditional write the handler makes: the total
becomes the sum of the customer's rows (the source of truth), the status follows it, every row joins
the profile's applied log, and a promotion writes its one EliteQualified event.

Safe to run beside the stream, to run again, and to stop half way and run again: a row's key goes
into the profile's applied log in the same write as the total, so neither a rerun nor the stream
counts it twice, and a write that races the stream reads the profile again. A rerun changes nothing
that is already right.

Shows a progress bar (rows, rate, ETA) on stderr; ends with a one-line summary on stdout: rows
scanned, customers, rows applied now, rows already counted, profiles changed, promotions, customers
skipped, and the rate. A customer whose row or profile cannot be read, or whose calls stay throttled
past their retries, is skipped, named on stderr (customer, row, field), and the rest go on. It reads
the whole table once, strongly consistent, and each customer's profile (100 per request); a customer's
rows are read again only when the profile's log holds a key the Scan did not see. On AWS, mind the read
units of a large table.

  --segments N        Scan CustTransactions with N parallel segments (default ${Backfill.DEFAULT_SEGMENTS})
  --concurrency N     up to N writes in flight: a customer alone, or up to 50 promotions sharing
                      one transaction (default ${Backfill.DEFAULT_CONCURRENCY})
  --yes, -y           accepted, as by every command that changes something (nothing here needs agreement)
${targetUsage}

Exit codes: 0 every customer counted; 1 a customer was skipped (named above the summary; fix the row,
or wait out the throttling, and run again) or the backfill failed (DynamoDB unreachable, a table
missing); 2 bad arguments.`

const { values } = parse(usage, { ...targetFlags, ...yesFlag, segments: { type: "string" }, concurrency: { type: "string" } })
const target = targetOf(usage, values)

const segments = Flags.orExit(usage, Flags.segments(values.segments, Backfill.DEFAULT_SEGMENTS))
// Past a few thousand recounts at once the client only queues.
const concurrency = Flags.orExit(usage, Flags.wholeNumber("concurrency", values.concurrency, { min: 1, max: 1_000 }, Backfill.DEFAULT_CONCURRENCY))

const summaryLine = (s: Backfill.Summary) =>
  `Backfill done: ${count(s.scanned, "row", "rows")} scanned for ${count(s.customers, "customer", "customers")} in ${seconds(s.elapsedMillis)}` +
  ` (${number(Backfill.rowsPerSecond(s))} rows/s): ${number(s.applied)} applied, ${number(s.duplicates)} already counted, ` +
  `${count(s.changed, "customer", "customers")} changed, ${count(s.promotions, "promotion", "promotions")}, ${number(s.skipped.length)} skipped` +
  (s.overflowing === 0 ? "" : `, ${count(s.overflowing, "row", "rows")} left out (a total would pass 2^53 − 1)`) + "."

const summary = await runScript(
  withTables(Effect.gen(function*() {
    const tables = yield* Tables
    // Exact on DynamoDB Local; on AWS refreshed about every six hours, so the bar is a guide there.
    const total = yield* Scan.approximateCount(tables.transactions).pipe(Effect.orElseSucceed(() => undefined))
    const progress = Progress.make({ label: "backfill", unit: "rows", ...(total === undefined ? {} : { total }) })
    const result = yield* Backfill.run({ segments, concurrency, onRows: (n) => Effect.sync(() => progress.advance(n)) }).pipe(
      Effect.ensuring(Effect.sync(() => progress.finish()))
    )
    for (const s of result.skipped) yield* Console.error(`skipped customer ${s.custId === "" ? "(no CustID)" : s.custId}: ${s.reason}`)
    yield* Console.log(summaryLine(result))
    return result
  })),
  target
)
if (summary.skipped.length > 0) process.exit(1)
