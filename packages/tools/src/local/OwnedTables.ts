/**
 * The tables provision created on the local stack. DynamoDB Local has no tagging, so where AWS reads our
 * owner tag, the local target keeps their names in `owned-tables.json` beside its data; teardown's
 * `--delete-data` deletes only those (or, with `--force-delete-data`, the others too).
 */
import type { TableDescription } from "@aws-sdk/client-dynamodb"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import type { OwnerTag } from "@dyna/aws/Deployment"
import type { Ownership } from "../provision/TableSteps.js"
import * as AtomicFile from "./AtomicFile.js"

const decode = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Array(Schema.String)))

/** The names in the ledger; a missing or unreadable ledger names none (nothing is then deleted). */
export const read = (home: string): ReadonlyArray<string> => {
  const file = join(home, "owned-tables.json")
  if (!existsSync(file)) return []
  const names = decode(readFileSync(file, "utf8"))
  return names._tag === "Some" ? names.value : []
}

/** Ownership of the local stack's tables, by the ledger in `home`. */
export const ownership = (home: string, tag: OwnerTag): Ownership<never, never> => ({
  tag,
  owns: (table: TableDescription) => Effect.sync(() => read(home).includes(table.TableName ?? "")),
  created: (name: string) =>
    Effect.sync(() => {
      const names = read(home)
      if (!names.includes(name)) AtomicFile.write(join(home, "owned-tables.json"), `${JSON.stringify([...names, name])}\n`)
    }),
  deleted: (name: string) =>
    Effect.sync(() => {
      const names = read(home)
      if (names.includes(name)) AtomicFile.write(join(home, "owned-tables.json"), `${JSON.stringify(names.filter((n) => n !== name))}\n`)
    })
})
