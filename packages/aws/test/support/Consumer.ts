/**
 * Another team's Lambda over the published packages, as Install.test.ts installs them into a fresh
 * project: typechecked against their `.d.ts` (no `source` condition), then run on DynamoDB Local.
 * Given an event file, prints `RESULT <json>`: the handler's response and the profile it left.
 */
import { statusFor } from "@dyna/core"
import * as Elite from "@dyna/core/Elite"
import { AppLayer } from "@dyna/aws/AppLayer"
import * as Handler from "@dyna/aws/Handler"
import { ProfileStore } from "@dyna/aws/ProfileStore"
import * as Effect from "effect/Effect"
import { readFileSync } from "node:fs"

const [eventFile, custId] = process.argv.slice(2)
const { handler, dispose } = Handler.make(AppLayer)

// What Lambda hands a handler: the event as JSON. Its type comes with @dyna/aws (@types/aws-lambda).
const event: Parameters<typeof handler>[0] = JSON.parse(readFileSync(eventFile ?? "", "utf8"))
const response = await handler(event)
await dispose()

const profile = await Effect.runPromise(
  Effect.gen(function*() {
    const store = yield* ProfileStore
    return yield* store.get(custId ?? "")
  }).pipe(Effect.provide(AppLayer))
)

console.log(`RESULT ${JSON.stringify({
  response,
  profile: profile === undefined ? null : `${profile.totalTnValue} / ${profile.custStatus}`,
  rule: profile === undefined ? null : statusFor(profile.totalTnValue) === profile.custStatus && Elite.THRESHOLD_DOLLARS > 0
})}`)
