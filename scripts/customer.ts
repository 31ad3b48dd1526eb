import { ProfileStore } from "@dyna/aws/ProfileStore"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { parse, runScript, withTables } from "./runScript.js"

const { positionals } = parse(`Usage: pnpm customer <CustID>

Prints that customer's CustProfile as one JSON object, or says there is none (exit code 1).`, {}, { min: 1, max: 1 })
const custId = positionals[0] ?? ""

await runScript(withTables(Effect.gen(function*() {
  const profile = yield* (yield* ProfileStore).get(custId)
  if (profile === undefined) {
    yield* Console.error(`no profile for CustID ${JSON.stringify(custId)}`)
    return process.exit(1)
  }
  yield* Console.log(JSON.stringify({
    CustID: profile.custId,
    TotalTnValue: profile.totalTnValue,
    CustStatus: profile.custStatus,
    ...(profile.version === undefined ? {} : { ProfileVersion: profile.version }),
    AppliedTransactions: profile.applied.size
  }))
})))
