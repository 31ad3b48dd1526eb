import * as Transactions from "@dyna/tools/Transactions"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { yesFlag } from "./lib/Changes.js"
import { parse, runScript, targetFlags, targetOf, targetUsage, withTables } from "./runScript.js"

const usage = `Usage: pnpm put-transaction <CustID> <TnNum> <TnValue> [--target local|aws]

Writes one row into CustTransactions, as a shop front-end would; the stream and the function then
count it on the customer's profile. TnNum is the transaction's id (an integer, written once);
TnValue is whole dollars.

  --yes, -y           accepted, as by every command that changes something (nothing here needs agreement)
${targetUsage}`

const { positionals, values } = parse(usage, { ...targetFlags, ...yesFlag }, { min: 3, max: 3 })
const [custId = "", tnNum = "", tnValue = ""] = positionals

await runScript(withTables(Effect.gen(function*() {
  yield* Transactions.put({ custId, tnNum, tnValue })
  yield* Console.log(`wrote transaction ${tnNum} of ${custId}: $${tnValue}`)
})), targetOf(usage, values))
