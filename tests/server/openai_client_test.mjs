// A standard OpenAI client library against a real `jetchat-cli serve` (#7): the official JavaScript client
// (openai on npm, fetched by scripts/install-deps.sh) lists the model, chats without and with streaming, and
// gets a 401 without the key; curl streams the same endpoint. Run by ctest:
//   node openai_client_test.mjs <jetchat-cli> <model dir> <openai package dir>
import { spawn, execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [cli, modelDir, openaiDir] = process.argv.slice(2);
const { default: OpenAI } = await import(pathToFileURL(path.join(openaiDir, 'index.mjs')).href);

const key = 'sk-test-' + process.pid;
const server = spawn(cli, ['serve', modelDir, '--port', '0', '--threads', '1'],
                     { env: { ...process.env, JETCHAT_API_KEY: key }, stdio: ['ignore', 'ignore', 'pipe'] });
const base = await new Promise((resolve, reject) => {
  let err = '';
  const timer = setTimeout(() => reject(new Error('serve did not start: ' + err)), 60000);
  server.stderr.on('data', (d) => {
    err += d;
    const m = /at (http:\/\/\S+\/v1)/.exec(err);
    if (m) { clearTimeout(timer); resolve(m[1]); }
  });
  server.on('exit', (code) => reject(new Error(`serve exited (${code}): ${err}`)));
});

try {
  const client = new OpenAI({ baseURL: base, apiKey: key, maxRetries: 0 });
  const models = await client.models.list();
  const model = models.data[0].id;
  assert.equal(model, path.basename(modelDir));

  const request = { model, messages: [{ role: 'user', content: 'Tell me a saying.' }], max_tokens: 24,
                    temperature: 0, seed: 7 };
  const reply = await client.chat.completions.create(request);
  const text = reply.choices[0].message.content;
  assert.ok(text.length > 0);
  assert.equal(reply.choices[0].message.role, 'assistant');
  assert.ok(reply.usage.prompt_tokens > 0 && reply.usage.completion_tokens > 0);
  assert.equal(reply.usage.total_tokens, reply.usage.prompt_tokens + reply.usage.completion_tokens);

  // Streaming: the deltas add up to the same greedy reply, the last chunk has a finish_reason and usage.
  const stream = await client.chat.completions.create({ ...request, stream: true,
                                                        stream_options: { include_usage: true } });
  let streamed = '', finish = null, usage = null, chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    for (const choice of chunk.choices) {
      streamed += choice.delta?.content ?? '';
      finish = choice.finish_reason ?? finish;
    }
    usage = chunk.usage ?? usage;
  }
  assert.ok(chunks > 2, `only ${chunks} chunks`);
  assert.equal(streamed, text);
  assert.ok(finish === 'stop' || finish === 'length', `finish_reason ${finish}`);
  assert.equal(usage.completion_tokens, reply.usage.completion_tokens);

  // Without the key: the client's AuthenticationError.
  const anonymous = new OpenAI({ baseURL: base, apiKey: 'wrong', maxRetries: 0 });
  await assert.rejects(anonymous.models.list(), (e) => e.status === 401);

  // curl, as in docs/API.md: server-sent events ending with [DONE].
  const sse = execFileSync('curl', ['-sN', base + '/chat/completions', '-H', 'Content-Type: application/json',
                                    '-H', `Authorization: Bearer ${key}`,
                                    '-d', JSON.stringify({ ...request, stream: true })], { encoding: 'utf8' });
  assert.match(sse, /^data: \{/);
  assert.match(sse, /data: \[DONE\]\s*$/);
  console.log(`ok: ${model} at ${base}; ${reply.usage.completion_tokens} tokens, ${chunks} stream chunks`);
} finally {
  server.kill('SIGTERM');
}
