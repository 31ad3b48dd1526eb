/**
 * The AWS region a command works in, found once as the AWS CLI finds it: `--region` (which the target
 * puts in `AWS_REGION`), `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's `region` in the shared
 * config files, read by the SDK's own loader. No region anywhere fails before any request is made.
 */
import { STSClient } from "@aws-sdk/client-sts"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as AwsCall from "@dyna/aws/AwsCall"
import * as Environment from "@dyna/aws/Environment"

export class RegionMissing extends Schema.TaggedError<RegionMissing>()("RegionMissing", {
  /** The profile whose shared config had no region. */
  profile: Schema.String
}) {
  override get message() {
    return `${AwsCall.noRegion} (profile "${this.profile}" has no region)`
  }
}

/**
 * The profile's region as the SDK itself resolves it (`AWS_PROFILE`, `AWS_CONFIG_FILE`,
 * `AWS_SHARED_CREDENTIALS_FILE`, `~/.aws`): a client built without a region loads it lazily, and
 * reading it sends nothing. The SDK's chain also reads `AWS_REGION`, but only after ours has.
 */
const profileRegion = Effect.acquireUseRelease(
  Effect.sync(() => new STSClient({})),
  (client) => Effect.tryPromise(() => client.config.region()).pipe(Effect.option),
  (client) => Effect.sync(() => client.destroy())
).pipe(Effect.map(Option.filter((value) => value.trim() !== "")))

/** The region a command works in, or `RegionMissing` when nothing names one. */
export const resolve = Effect.gen(function*() {
  // `AWS_REGION=` counts as unset, as it does for the CLI.
  const found = (yield* Environment.optional("AWS_REGION")) ?? (yield* Environment.optional("AWS_DEFAULT_REGION"))
  if (found !== undefined) return found
  const fromProfile = yield* profileRegion
  if (Option.isSome(fromProfile)) return fromProfile.value
  return yield* new RegionMissing({ profile: yield* Environment.orDefault("AWS_PROFILE", "default") })
}).pipe(Effect.withSpan("Region.resolve"))
