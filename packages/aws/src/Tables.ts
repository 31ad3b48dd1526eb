/**
 * The table names, from configuration, defaulting to the Jam's.
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"

export class Tables extends Context.Service<Tables, {
  readonly transactions: string
  readonly profiles: string
  /** The quarantine: stream records that can never be applied, with their reason. */
  readonly rejected: string
  /** EliteQualified events: one per promotion, written atomically with the profile change. */
  readonly events: string
}>()("dyna-elite/aws/Tables") {
  static readonly layer = Layer.effect(
    Tables,
    Config.all({
      transactions: Config.String("TRANSACTIONS_TABLE").pipe(Config.withDefault("CustTransactions")),
      profiles: Config.String("PROFILES_TABLE").pipe(Config.withDefault("CustProfile")),
      rejected: Config.String("REJECTED_TABLE").pipe(Config.withDefault("CustTransactionsRejected")),
      events: Config.String("ELITE_EVENTS_TABLE").pipe(Config.withDefault("CustEliteEvents"))
    })
  )
}
