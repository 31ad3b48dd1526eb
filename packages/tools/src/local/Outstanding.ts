/**
 * A shard's records read and not yet fully handled, in stream order, for its checkpoint: with several
 * lanes finishing out of order, the checkpoint only moves past a record once it and every record read
 * before it are handled (delivered, given up on, or filtered out).
 */
import type { DynamoDBRecord } from "aws-lambda"

/** A record waiting for its lane or in its lane's batch. */
interface Entry {
  readonly sequenceNumber: string
  /** The last sequence number it stands for: itself, and the filtered-out records read after it. */
  readonly through: string
  readonly done: boolean
}

/** The records not yet released to the checkpoint, oldest first. */
export interface Outstanding {
  readonly entries: ReadonlyArray<Entry>
}

/** Nothing outstanding. */
export const empty: Outstanding = { entries: [] }

/** Whether every record read has been released to the checkpoint. */
export const isEmpty = (o: Outstanding): boolean => o.entries.length === 0

/**
 * One page read: records that match join as outstanding; a filtered-out record is handled with the
 * record before it, or at once when nothing is outstanding (`handledTo`, the checkpoint it allows).
 */
export const read = (
  o: Outstanding,
  page: ReadonlyArray<{ readonly record: DynamoDBRecord; readonly sequenceNumber: string; readonly matched: boolean }>
): { readonly outstanding: Outstanding; readonly handledTo: string | undefined } => {
  const entries = [...o.entries]
  let handledTo: string | undefined
  for (const { matched, sequenceNumber } of page) {
    const last = entries.at(-1)
    if (matched) entries.push({ sequenceNumber, through: sequenceNumber, done: false })
    else if (last !== undefined) entries[entries.length - 1] = { ...last, through: sequenceNumber }
    else handledTo = sequenceNumber
  }
  return { outstanding: { entries }, handledTo }
}

/**
 * Records their lane has handled: marked done, then the done head is released. `checkpoint` is how far
 * the shard's checkpoint may now move (the last released record's `through`), `undefined` while an
 * earlier record is still unfinished in another lane.
 */
export const handled = (
  o: Outstanding,
  sequenceNumbers: ReadonlyArray<string>
): { readonly outstanding: Outstanding; readonly checkpoint: string | undefined } => {
  const finished = new Set(sequenceNumbers)
  const entries = o.entries.map((e) => (finished.has(e.sequenceNumber) ? { ...e, done: true } : e))
  const head = entries.findIndex((e) => !e.done)
  const released = head < 0 ? entries.length : head
  return { outstanding: { entries: entries.slice(released) }, checkpoint: entries[released - 1]?.through }
}
