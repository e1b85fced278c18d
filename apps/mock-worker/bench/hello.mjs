// Bare Fastify hello-world, the baseline of bench/worker.mjs. Prints its URL.
import Fastify from 'fastify'

const app = Fastify({ logger: false })
app.get('/hello', async () => ({ hello: 'world' }))
await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`http://127.0.0.1:${app.server.address().port}\n`)
process.on('SIGTERM', () => app.close().then(() => process.exit(0)))
