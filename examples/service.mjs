// A minimal Node service that calls andor as a library: one engine (and its worker pool) for the process, a JSON
// endpoint that explains a row of the bundled breast-cancer samples, and a clean shutdown. Run it with
//   node examples/service.mjs [port]      then   curl 'localhost:3000/explain?row=2'
// It imports the package by name ("andor"), as another service that depends on it would.
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { createEngine, EngineError, loadSampleSet } from 'andor';

const models = fileURLToPath(new URL('../models/', import.meta.url));
const engine = await createEngine({ workers: 2, threads: 1 });
const samples = await loadSampleSet(`${models}breast-cancer.samples.json`);

const server = http.createServer(async (request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const send = (status, body) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  if (url.pathname !== '/explain') return send(404, { error: 'try /explain?row=0' });
  const controller = new AbortController();
  response.on('close', () => controller.abort()); // stop the work if the client leaves
  try {
    const row = Number(url.searchParams.get('row') ?? 0);
    const result = await engine.explain({
      model: `${models}breast-cancer-mlp.onnx`, sample: samples.samples[row] ?? samples.samples[0], players: '0-9', signal: controller.signal,
    });
    send(200, {
      row, target: result.target, matching: result.matching.maxAbsError,
      top: result.salient.slice(0, 5).map((s) => ({ kind: s.kind, players: s.players.map((p) => samples.features[p]), value: s.value })),
    });
  } catch (error) {
    send(error instanceof EngineError ? 400 : 500, { error: error.message, code: error.code });
  }
});

const port = Number(process.argv[2] ?? 3000);
server.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
const stop = () => server.close(() => engine.dispose());
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
