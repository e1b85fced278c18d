// Makes fast-check runs reproducible. fast-check prints `{ seed, path }` when a property fails; replay
// that exact case with `FC_SEED=<seed> FC_PATH=<path> npx vitest run <file> -t '<test name>'`.
import fc from 'fast-check'

const seed = process.env.FC_SEED
const path = process.env.FC_PATH

if (seed !== undefined) {
  fc.configureGlobal({
    seed: Number(seed),
    endOnFailure: true,
    ...(path !== undefined ? { path } : {}),
  })
  console.log(`fast-check: replaying with seed=${seed} path=${path ?? '-'}`)
}
