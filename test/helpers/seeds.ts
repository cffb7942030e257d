/**
 * The seeds a seeded process test runs. With TANDEM_SEED set, that seed alone (a replay).
 * Otherwise a fixed list, so every CI run repeats the same cases and a rare failure is
 * reproducible, and one fresh random seed, which the test prints.
 */
export function seedsToRun(fixed: readonly number[]): number[] {
  const given = process.env.TANDEM_SEED
  if (given !== undefined && given !== '') return [Number(given)]
  return [...fixed, Math.floor(Math.random() * 2 ** 31)]
}
