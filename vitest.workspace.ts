/**
 * The test projects, one per package. vitest 4 no longer reads a workspace file by itself: this list is
 * imported by vitest.config.ts (`test.projects`), so a package left out here runs no tests at all.
 */
export const projects = ["packages/core", "packages/aws", "packages/tools", "scripts"]

/**
 * Workspace packages resolve to their TypeScript sources (their "source" export condition), in
 * vitest's SSR resolution too, so no test depends on a prior build. Spread into each project's config.
 */
export const sourceResolution = {
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } }
}
