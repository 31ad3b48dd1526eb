/**
 * The local target's provisioning: DynamoDB Local running, then the same table and stream steps as on
 * AWS. Issue 4 appends publishing the function and the stream mapping.
 */
import type { ConfigError } from "effect/Config"
import * as Effect from "effect/Effect"
import { type DynamoDb, type DynamoDbError, isLoopback } from "../DynamoDb.js"
import { isListening, LocalStackError, startInBackground } from "../local/DynamoDbLocal.js"
import * as LocalConfig from "../local/LocalConfig.js"
import { Tables } from "../Tables.js"
import type { Outcome, Step } from "./Step.js"
import { ensureStream, ensureTable, profilesTable, rejectedTable, transactionsTable } from "./TableSteps.js"

/** Reuses whatever DynamoDB listens at the endpoint; starts ours in the background when nothing does. */
export const ensureDynamoDbLocal = Effect.gen(function*() {
  const { endpoint, dataDir, pidFile } = yield* LocalConfig.settings
  const url = yield* Effect.try({
    try: () => new URL(endpoint),
    catch: () => new LocalStackError({ message: `AWS_ENDPOINT_URL_DYNAMODB is not a URL: ${endpoint}` })
  })
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80))
  if (yield* isListening(url.hostname.replace(/^\[|\]$/g, ""), port)) {
    return { action: "unchanged", resource: endpoint, detail: "already listening" } satisfies Outcome
  }
  if (!isLoopback(endpoint)) {
    return yield* new LocalStackError({ message: `nothing answers at ${endpoint}, and it is not on this machine to start` })
  }
  const pid = yield* startInBackground({ port, dataDir, pidFile })
  return { action: "started", resource: endpoint, detail: `pid ${pid}, data in ${dataDir}` } satisfies Outcome
})

/** Every step of `pnpm provision` on the local target, in order. */
export const localSteps: Effect.Effect<
  ReadonlyArray<Step<ConfigError | LocalStackError | DynamoDbError, DynamoDb>>,
  never,
  Tables
> = Effect.gen(function*() {
  const tables = yield* Tables
  return [
    { title: "DynamoDB Local", run: ensureDynamoDbLocal },
    { title: `table ${tables.transactions}`, run: ensureTable(transactionsTable(tables.transactions)) },
    { title: `stream on ${tables.transactions}`, run: ensureStream(tables.transactions) },
    { title: `table ${tables.profiles}`, run: ensureTable(profilesTable(tables.profiles)) },
    { title: `table ${tables.rejected} (quarantine)`, run: ensureTable(rejectedTable(tables.rejected)) }
  ]
})
