import * as AtomicFile from "@dyna/tools/local/AtomicFile"
import * as EliteEvents from "@dyna/tools/ops/EliteEvents"
import * as EliteExport from "@dyna/tools/ops/EliteExport"
import * as Scan from "@dyna/tools/ops/Scan"
import { requireTables } from "@dyna/aws/TableDescription"
import { Tables } from "@dyna/aws/Tables"
import type * as Target from "@dyna/tools/Target"
import type * as Promotion from "@dyna/core/Promotion"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as Flags from "./lib/Flags.js"
import { count, dollars } from "@dyna/tools/Format"
import * as Progress from "./lib/Progress.js"
import { yesFlag } from "./lib/Changes.js"
import { parse, runScript, targetFlags, targetOf, targetUsage } from "./runScript.js"

const usage = `Usage: pnpm elite <command> [options]

The Elite customers and their promotions, on the local stack (default) or with --target aws.

Commands:
  export   writes the Elite customers as CSV, for a mail merge
  events   lists the EliteQualified events (one per promotion), oldest first
  watch    follows new promotions live, one line each, until Ctrl-C

Run \`pnpm elite <command> --help\` for a command's options.`

const exportUsage = `Usage: pnpm elite export [--out FILE] [--since ISO-DATE] [--segments N] [--raw] [--target local|aws]

Writes the Elite customers as CSV (RFC 4180, UTF-8, CRLF line ends, a header row): CustID,
TotalTnValue, EliteSince (when they became Elite; empty for those promoted before it was recorded),
then every other attribute their CustProfile item carries (name, email, …), one column each, by name.
Rows are in EliteSince order, customers without one first. A customer is Elite by their total
($1,000 or more), whatever CustStatus says. A profile that cannot be read is left out and named on
stderr. Ends with a one-line summary.

The CSV is meant for a spreadsheet: a cell that starts with =, +, -, @, a tab or a CR, which a
spreadsheet would run as a formula, is written with a leading ' (OWASP's advice against CSV
injection). Numbers (TotalTnValue, number attributes such as -5) are written exactly.

  --out FILE          write the CSV to FILE (replaced in one step, readable by you only: mode 0600);
                      without it the CSV goes to stdout and the summary to stderr, so stdout is pure CSV
  --raw               write every cell exactly as stored, formulas included, for a program to read
  --since ISO-DATE    only customers who became Elite at or after it: 2026-11-01 (midnight UTC) or
                      2026-11-01T09:00:00Z; those without EliteSince are left out
  --segments N        read CustProfile with N parallel Scan segments (default 1), for large tables
  --yes, -y           accepted, as by every command that changes something (nothing here needs agreement)

${targetUsage}`

const eventsUsage = `Usage: pnpm elite events [--since ISO-DATE] [--json] [--target local|aws]

Lists the EliteQualified events in CustEliteEvents, oldest first: when the customer became Elite,
who, their total right after the purchase that crossed $1,000, and that purchase's TnNum. There is
one event per promotion, written in the same step as the profile change. An item that cannot be read
is named on stderr and left out. Ends with a one-line summary.

  --since ISO-DATE   only the events at or after it: 2026-11-01 (midnight UTC) or 2026-11-01T09:00:00Z
  --json             one JSON object per event, per line (the summary then goes to stderr)

${targetUsage}`

const watchUsage = `Usage: pnpm elite watch [--all | --since ISO-DATE] [--target local|aws]

Follows CustEliteEvents live and prints one line per new promotion as soon as it is recorded: the
front desk's "hand over the card now" screen. Looks every 500 ms; Ctrl-C stops it with a summary.
By default only promotions after the start are shown.

  --all              first show every earlier promotion, then follow
  --since ISO-DATE   first show the promotions at or after it, then follow

Meant for the local stack: every look is a Scan of the whole table, which AWS bills per item read.

${targetUsage}`

const commands = { export: exportUsage, events: eventsUsage, watch: watchUsage } as const
type Command = keyof typeof commands
const isCommand = (s: string | undefined): s is Command => s !== undefined && Object.hasOwn(commands, s)

const crossedBy = (p: Promotion.Promotion) =>
  p.tnNum !== undefined ? `TnNum ${p.tnNum}` : p.sequenceNumber !== undefined ? `SequenceNumber ${p.sequenceNumber}` : "an unnumbered purchase"

/** A progress line on stderr, fed page by page; its total is DescribeTable's approximate item count. */
const progressFor = (table: string, label: string, unit: string) =>
  Scan.approximateCount(table).pipe(
    Effect.orElseSucceed(() => undefined),
    Effect.map((total) => Progress.make({ label, unit, ...(total === undefined ? {} : { total }) }))
  )

class OutFileError extends Schema.TaggedError<OutFileError>()("OutFileError", { file: Schema.String, reason: Schema.String }) {
  override get message() {
    return `cannot write ${this.file}: ${this.reason}`
  }
}

const runExport = (args: {
  readonly out: string | undefined
  readonly since: Date | undefined
  readonly segments: number | undefined
  readonly raw: boolean
}) =>
  Effect.gen(function*() {
    const tables = yield* Tables
    yield* requireTables([tables.profiles])
    const progress = yield* progressFor(tables.profiles, "export", "profiles")
    const result = yield* EliteExport.run({
      since: args.since,
      segments: args.segments,
      raw: args.raw,
      onPage: (n) => Effect.sync(() => progress.advance(n))
    }).pipe(Effect.ensuring(Effect.sync(() => progress.finish())))
    for (const s of result.skipped) {
      yield* Console.error(`left out CustProfile item ${s.custId === "" ? "(no CustID)" : s.custId}: ${s.reason}`)
    }
    const leftOut = result.skipped.length === 0 ? "" : ` ${count(result.skipped.length, "unreadable profile", "unreadable profiles")} left out (named above).`
    const exported = `Exported ${count(result.rows.length, "Elite customer", "Elite customers")}`
    const columns = count(result.columns, "column", "columns")
    const formulas = result.neutralised === 0
      ? ""
      : ` ${count(result.neutralised, "cell", "cells")} a spreadsheet would run as a formula got a leading ' (--raw keeps them exact).`
    if (args.out === undefined) {
      yield* Effect.sync(() => process.stdout.write(result.csv))
      yield* Console.error(`${exported} (${columns}).${formulas}${leftOut}`)
    } else {
      const file = args.out
      yield* Effect.try({
        // Names and emails: readable by the user only, whatever the umask.
        try: () => AtomicFile.write(file, result.csv, { mode: 0o600 }),
        catch: (cause) => new OutFileError({ file, reason: cause instanceof Error ? cause.message : String(cause) })
      })
      yield* Console.log(`${exported} to ${file} (${columns}).${formulas}${leftOut}`)
    }
  })

const reportMalformed = (m: EliteEvents.Malformed) => Console.error(`left out CustEliteEvents item ${m.key}: ${m.reason}`)

const eventJson = (p: Promotion.Promotion) =>
  JSON.stringify({
    CustID: p.custId,
    ProfileVersion: p.profileVersion,
    EventType: "EliteQualified",
    TotalTnValue: p.totalTnValue,
    // TnNum is any integer DynamoDB holds: a number while JSON readers keep it exact, its text past that.
    TnNum: p.tnNum === undefined ? undefined : Number.isSafeInteger(Number(p.tnNum)) ? Number(p.tnNum) : p.tnNum,
    SequenceNumber: p.sequenceNumber,
    QualifiedAt: p.qualifiedAt
  })

const runEvents = (args: { readonly since: Date | undefined; readonly json: boolean }) =>
  Effect.gen(function*() {
    const tables = yield* Tables
    yield* requireTables([tables.events])
    const progress = yield* progressFor(tables.events, "events", "items")
    const listing = yield* EliteEvents.list({ since: args.since, onPage: (n) => Effect.sync(() => progress.advance(n)) }).pipe(
      Effect.ensuring(Effect.sync(() => progress.finish()))
    )
    yield* Effect.forEach(listing.malformed, reportMalformed, { discard: true })
    for (const p of listing.events) {
      yield* Console.log(
        args.json ? eventJson(p) : `${p.qualifiedAt}  ${p.custId}  ${dollars(p.totalTnValue)}  crossed by ${crossedBy(p)}`
      )
    }
    const leftOut = listing.malformed.length === 0 ? "" : ` ${count(listing.malformed.length, "unreadable item", "unreadable items")} left out (named above).`
    const summary = `${listing.events.length} EliteQualified event(s).${leftOut}`
    yield* args.json ? Console.error(summary) : Console.log(summary)
  })

/**
 * Completes on the first Ctrl-C (or SIGTERM). The listeners stay for the rest of the run: tsx sends the
 * signal to this process again when it did not hear back within 30 ms, and a process with no listener
 * left would exit with 130 at once, before its summary.
 */
const stopSignal = Effect.callback<void>((resume) => {
  const stop = () => resume(Effect.void)
  process.on("SIGINT", stop)
  process.on("SIGTERM", stop)
})

const clockTime = (iso: string) => new Date(iso).toLocaleTimeString("en-GB", { hour12: false })

const runWatch = (args: { readonly from: "now" | "all" | Date; readonly target: Target.Target }) =>
  Effect.gen(function*() {
    const tables = yield* Tables
    yield* requireTables([tables.events])
    if (args.target === "aws") {
      yield* Console.error(
        `note: watch Scans ${tables.events} every 500 ms, and AWS bills every item each Scan reads; it is meant for the local stack`
      )
    }
    const startedAt = yield* Clock.currentTimeMillis
    // Promotions shown from history (--all, --since) before the watch began, and new ones since.
    const shown = yield* Ref.make({ earlier: 0, new: 0, ready: false })
    const bold = process.stdout.isTTY === true ? (s: string) => `\x1b[1;33m${s}\x1b[0m` : (s: string) => s
    const watching = EliteEvents.watch({
      from: args.from,
      onReady: () =>
        Ref.update(shown, (n) => ({ ...n, ready: true })).pipe(
          Effect.andThen(Console.error(`Watching ${tables.events} for new promotions… (Ctrl-C to stop)`))
        ),
      onEvent: (p) =>
        Ref.update(shown, (n) => (n.ready ? { ...n, new: n.new + 1 } : { ...n, earlier: n.earlier + 1 })).pipe(
          Effect.andThen(Console.log(
            bold(`★ ${clockTime(p.qualifiedAt)}  ${p.custId} is Elite — ${dollars(p.totalTnValue)} (${crossedBy(p)}): hand over the card`)
          ))
        ),
      onMalformed: reportMalformed
    })
    yield* Effect.raceFirst(watching, stopSignal)
    const elapsed = (yield* Clock.currentTimeMillis) - startedAt
    const { earlier, new: fresh } = yield* Ref.get(shown)
    const history = earlier === 0 ? "" : ` (and ${count(earlier, "earlier one", "earlier ones")} shown first)`
    yield* Console.error(`Watched ${Progress.formatDuration(elapsed)}: ${count(fresh, "promotion", "promotions")}${history}.`)
  })

const command = process.argv[2]
if (!isCommand(command)) {
  if (command === "--help" || command === "-h") {
    console.log(usage)
    process.exit(0)
  }
  Flags.badArgument(
    usage,
    command === undefined || command.startsWith("-")
      ? "expected a command: export, events or watch"
      : `unknown command ${JSON.stringify(command)}; expected export, events or watch`
  )
} else if (command === "export") {
  const { values } = parse(exportUsage, {
    ...targetFlags,
    out: { type: "string" },
    since: { type: "string" },
    segments: { type: "string" },
    raw: { type: "boolean" },
    ...yesFlag
  }, { min: 1, max: 1 })
  const options = targetOf(exportUsage, values)
  const args = {
    out: values.out,
    since: Flags.orExit(exportUsage, Flags.instant("since", values.since)),
    segments: Flags.orExit(exportUsage, Flags.segments(values.segments, undefined)),
    raw: values.raw === true
  }
  await runScript(runExport(args), options)
} else if (command === "events") {
  const { values } = parse(eventsUsage, { ...targetFlags, since: { type: "string" }, json: { type: "boolean" } }, { min: 1, max: 1 })
  const options = targetOf(eventsUsage, values)
  await runScript(runEvents({ since: Flags.orExit(eventsUsage, Flags.instant("since", values.since)), json: values.json === true }), options)
} else {
  const { values } = parse(watchUsage, { ...targetFlags, since: { type: "string" }, all: { type: "boolean" } }, { min: 1, max: 1 })
  const options = targetOf(watchUsage, values)
  if (values.all === true && values.since !== undefined) Flags.badArgument(watchUsage, "use --all or --since, not both")
  const since = Flags.orExit(watchUsage, Flags.instant("since", values.since))
  await runScript(runWatch({ from: values.all === true ? "all" : since ?? "now", target: options.target }), options)
}
