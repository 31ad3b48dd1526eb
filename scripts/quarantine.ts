import { Quarantine } from "@dyna/aws/Quarantine"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { parse, runScript, withTables } from "./runScript.js"

const { values } = parse(`Usage: pnpm quarantine [--json]

Lists the stream records the handler set aside as malformed, oldest first, with the reason.

  --json   one JSON object per record, including the raw record`, { json: { type: "boolean" } })

await runScript(withTables(Effect.gen(function*() {
  const rejected = yield* (yield* Quarantine).list()
  for (const r of rejected) {
    yield* Console.log(values.json === true ? JSON.stringify(r) : `${r.rejectedAt}  ${r.recordId}  ${r.custId || "-"}  ${r.reason}`)
  }
  yield* Console.log(`${rejected.length} quarantined record(s).`)
})))
