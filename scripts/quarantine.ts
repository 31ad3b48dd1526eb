import { MAX_EXCERPT_BYTES, Quarantine } from "@dyna/aws/Quarantine"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { parse, runScript, targetFlags, targetOf, targetUsage, withTables } from "./runScript.js"

const usage = `Usage: pnpm quarantine [--json] [--target local|aws]

Lists the stream records the handler set aside as malformed, oldest first, with the reason. An item
keeps the record's ids, its row's keys, the reason and an excerpt of the record (up to
${MAX_EXCERPT_BYTES.toLocaleString("en-US")} bytes), and expires after QUARANTINE_DAYS (default 30). \`pnpm replay\`
brings them back once their rows can be counted.

  --json              one JSON object per record: the excerpt (rawRecord), when it expires (expiresAt)
                      and what was cut (cut: each field kept only in part, its bytes and the bytes kept)
${targetUsage}`

const { values } = parse(usage, { ...targetFlags, json: { type: "boolean" } })
const target = targetOf(usage, values)

await runScript(withTables(Effect.gen(function*() {
  const rejected = yield* (yield* Quarantine).list()
  for (const r of rejected) {
    const cut = r.cut.length === 0 ? "" : `  (cut: ${r.cut.map((c) => c.field).join(", ")})`
    yield* Console.log(values.json === true ? JSON.stringify(r) : `${r.rejectedAt}  ${r.recordId}  ${r.custId || "-"}  ${r.reason}${cut}`)
  }
  yield* Console.log(`${rejected.length} quarantined record(s).`)
})), target)
