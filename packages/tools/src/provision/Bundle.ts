/**
 * The Lambda artifact: `Handler.ts` bundled by esbuild into one minified ESM file, and the same file
 * zipped for Lambda. The local runner loads that very file, so what passes locally is what ships.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { build, type BuildOptions, type Metafile } from "esbuild"
import { zipSync } from "fflate"
import { createHash } from "node:crypto"
import { dirname } from "node:path"
import { fileURLToPath } from "node:url"
import { functionSettings } from "@dyna/aws/Deployment"

export class BundleError extends Schema.TaggedError<BundleError>()("BundleError", { message: Schema.String }) {}

export interface Artifact {
  /** The bundled handler, `index.mjs`. */
  readonly code: Uint8Array
  /** A zip holding only `index.mjs`, byte for byte the same on every build of the same sources. */
  readonly zip: Uint8Array
  /** Base64 SHA-256 of the zip: what Lambda reports as `CodeSha256`, so a redeploy can be skipped. */
  readonly sha256: string
}

// The SDK's CommonJS parts call `require("node:crypto")` and friends, which an ESM bundle lacks.
const requireShim = `import{createRequire as __cr}from"node:module";const require=__cr(import.meta.url);`

// From sources (`src/provision/Bundle.ts`) or a build (`dist/provision/Bundle.js`): a module beside it.
const besideThis = (path: string) => fileURLToPath(new URL(import.meta.url.endsWith(".ts") ? `${path}.ts` : `${path}.js`, import.meta.url))

// Zip entries carry a time; a fixed one keeps the checksum stable across builds.
const FIXED_MTIME = new Date("2020-01-01T00:00:00Z")

export const sha256Base64 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("base64")

/** esbuild's target for a Lambda runtime: the Node.js major it runs (`nodejs24.x` → `node24`). */
export const targetOf = (runtime: `nodejs${number}.x`): string => `node${runtime.slice("nodejs".length, -".x".length)}`

/**
 * The deployed function's target, following its runtime. Locally the same file runs on the machine's
 * Node, which may be older (20): a test checks that this target changes no byte against `node20`'s.
 */
export const functionTarget = targetOf(functionSettings.runtime)

/** The target of what only runs here, on the Node that built it (the local runner, in its own process). */
export const localTarget = `node${process.versions.node}`

/** esbuild's options for every artifact, apart from the entry point (`pnpm bench` builds its baselines with them too). */
export const options = {
  bundle: true,
  minify: true,
  platform: "node",
  format: "esm",
  target: functionTarget,
  // Workspace packages point their `source` condition at TypeScript: bundle from sources. `module`
  // (which any custom condition switches off) and `mainFields` pick the SDK's ES modules over its
  // CommonJS, so unused code is shaken out: a third smaller, and no browser-detection code for Node.
  conditions: ["source", "module"],
  mainFields: ["module", "main"],
  banner: { js: requireShim },
  write: false,
  logLevel: "silent"
} satisfies BuildOptions

/** What went into a bundle, file by file (esbuild's metafile), for measuring what each package costs. */
export type Contents = Metafile

/**
 * One minified ESM file with everything `entry` imports, built in memory, and what went into it. The
 * entry is a file, or a module's source resolved from here (how the handler of `@dyna/aws` is named);
 * the target is the deployed function's unless said otherwise.
 */
export const bundle = (entry: string | { readonly source: string }, target: string = options.target) =>
  Effect.gen(function*() {
    const input = typeof entry === "string"
      ? { entryPoints: [entry] }
      : { stdin: { contents: entry.source, resolveDir: dirname(besideThis("./Bundle")), loader: "ts" as const, sourcefile: "handler-entry.ts" } }
    const result = yield* Effect.tryPromise({
      try: () => build({ ...options, ...input, target, metafile: true }),
      catch: (cause) =>
        new BundleError({
          message: `esbuild could not bundle ${typeof entry === "string" ? entry : "@dyna/aws/Handler"}: ${cause instanceof Error ? cause.message : String(cause)}`
        })
    })
    const code = result.outputFiles[0]?.contents
    if (code === undefined) return yield* new BundleError({ message: `esbuild produced no output for ${typeof entry === "string" ? entry : "@dyna/aws/Handler"}` })
    return { code, contents: result.metafile }
  })

/** The Lambda handler, from the adapter package as any service would import it: the entry point of {@link make}. */
export const handlerEntry = { source: `export { handler } from "@dyna/aws/Handler"` } as const

/** The Lambda function's artifact, built in memory. */
export const make: Effect.Effect<Artifact, BundleError> = Effect.gen(function*() {
  const { code } = yield* bundle(handlerEntry)
  const zip = zipSync({ [functionSettings.fileName]: [code, { mtime: FIXED_MTIME, level: 9 }] })
  return { code, zip, sha256: sha256Base64(zip) }
})

/** The local runner as one file, so its background process needs neither tsx nor the sources; for the Node that runs it. */
export const runner: Effect.Effect<Uint8Array, BundleError> = Effect.map(bundle(besideThis("../local/RunnerMain"), localTarget), ({ code }) => code)
