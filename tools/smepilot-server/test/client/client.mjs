// Drives a running smepilot-server with the official `openai` npm client
// (run_client_test.py starts the server and runs this).
//
//   node client.mjs BASE_URL MODE [API_KEY]
//
// MODE full: the server runs stories260K on the reference engine with
// --max-queue 2 --debug-token-delay-ms 20 (each token takes >= 20 ms, so
// that requests overlap and a cancelled one is seen to stop early).
// MODE auth: the server asks for API_KEY. MODE jit: the jit engine.
// Greedy stories260K continues "Once upon a time" with the text below
// (smepilot-run's oracle). Prints one line per check; exits 1 on the first
// failure.
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const [baseURL, mode, apiKey] = process.argv.slice(2);
if (!baseURL || !['full', 'auth', 'jit'].includes(mode)) {
  console.error('usage: node client.mjs BASE_URL full|auth|jit [API_KEY]');
  process.exit(2);
}
const client = new OpenAI({
  baseURL: `${baseURL}/v1`,
  apiKey: apiKey ?? 'no-key',
  maxRetries: 0, // a 503 must be seen, not retried
  timeout: 60_000,
});
const model = 'stories260K.gguf';
const once = 'Once upon a time';
const greedy12 = ', there was a little girl named Lily. She';
const chat = (extra = {}) => ({
  model,
  messages: [{ role: 'user', content: once }],
  max_tokens: 12,
  temperature: 0,
  ...extra,
});

const checks = [];
const check = (name, fn) => checks.push([name, fn]);

async function health() {
  const res = await fetch(`${baseURL}/health`);
  assert.equal(res.status, 200);
  return res.json();
}

/// The error a request gets: an APIError (thrown by the client).
async function rejection(promise) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof OpenAI.APIError, `not an APIError: ${e}`);
    return e;
  }
  assert.fail('the request succeeded; an error was expected');
}

/// POSTs a raw body; returns [status, parsed body].
async function post(path, body, headers = {}) {
  const res = await fetch(`${baseURL}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    assert.fail(`the ${res.status} body is not JSON: ${text}`);
  }
  return [res.status, json];
}

function assertErrorBody(json, code) {
  assert.equal(typeof json.error, 'object', JSON.stringify(json));
  assert.equal(typeof json.error.message, 'string');
  assert.ok(json.error.message.length > 0);
  assert.equal(typeof json.error.type, 'string');
  assert.ok('param' in json.error && 'code' in json.error);
  if (code) assert.equal(json.error.code, code);
}

/// Waits until /health's counters satisfy `done`, at most 10 s.
async function waitForHealth(done) {
  const t0 = Date.now();
  for (;;) {
    const h = await health();
    if (done(h)) return h;
    if (Date.now() - t0 > 10_000)
      assert.fail(`/health never got there: ${JSON.stringify(h)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function streamedChat(params, options) {
  const stream = await client.chat.completions.create(
    { ...params, stream: true, stream_options: { include_usage: true } },
    options,
  );
  const out = { text: '', chunks: 0, role: null, finish: null, usage: null };
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) out.usage = chunk.usage;
    for (const choice of chunk.choices) {
      if (choice.delta.role) out.role = choice.delta.role;
      if (choice.delta.content) {
        out.text += choice.delta.content;
        ++out.chunks;
      }
      if (choice.finish_reason) out.finish = choice.finish_reason;
    }
  }
  return out;
}

// --- Checks every mode runs ---------------------------------------------------

check('non-streaming chat', async () => {
  const r = await client.chat.completions.create(chat());
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, model);
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].message.content, greedy12);
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.prompt_tokens, 5);
  assert.equal(r.usage.completion_tokens, 12);
  assert.equal(r.usage.total_tokens, 17);
});

check('streaming chat', async () => {
  const s = await streamedChat(chat());
  assert.equal(s.role, 'assistant');
  assert.equal(s.text, greedy12);
  assert.ok(s.chunks >= 2, `the reply came in ${s.chunks} chunk(s)`);
  assert.equal(s.finish, 'length');
  assert.equal(s.usage.completion_tokens, 12);
  assert.equal(s.usage.prompt_tokens, 5);
});

if (mode === 'auth') {
  check('/health asks for no key', async () => {
    assert.equal((await health()).status, 'ok');
  });
  check('a wrong key is 401', async () => {
    const wrong = new OpenAI({
      baseURL: `${baseURL}/v1`,
      apiKey: `${apiKey}-wrong`,
      maxRetries: 0,
    });
    const e = await rejection(wrong.chat.completions.create(chat()));
    assert.ok(e instanceof OpenAI.AuthenticationError);
    assert.equal(e.status, 401);
    assert.equal(e.code, 'invalid_api_key');
    const models = await rejection(wrong.models.list());
    assert.equal(models.status, 401);
  });
  check('no key is 401', async () => {
    const [status, body] = await post('/v1/completions', '{"prompt": "a"}');
    assert.equal(status, 401);
    assertErrorBody(body, 'invalid_api_key');
  });
}

if (mode === 'full') {
  check('models', async () => {
    const list = await client.models.list();
    assert.deepEqual(
      list.data.map((m) => m.id),
      [model],
    );
  });

  check('a stop string ends the reply before it', async () => {
    const r = await client.chat.completions.create(chat({ stop: ['Lily'] }));
    assert.equal(r.choices[0].message.content, ', there was a little girl named ');
    assert.equal(r.choices[0].finish_reason, 'stop');
    const s = await streamedChat(chat({ stop: 'Lily' }));
    assert.equal(s.text, ', there was a little girl named ');
    assert.equal(s.finish, 'stop');
  });

  check('completions, plain and streamed', async () => {
    const r = await client.completions.create({
      model,
      prompt: once,
      max_tokens: 12,
      temperature: 0,
    });
    assert.equal(r.object, 'text_completion');
    assert.equal(r.choices[0].text, greedy12);
    assert.equal(r.choices[0].finish_reason, 'length');
    const stream = await client.completions.create({
      model,
      prompt: once,
      max_tokens: 12,
      temperature: 0,
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    assert.equal(text, greedy12);
  });

  check('a conversation that goes on reuses the KV cache', async () => {
    await client.chat.completions.create(chat());
    const r = await client.chat.completions.create({
      model,
      messages: [
        { role: 'user', content: once },
        { role: 'assistant', content: greedy12 },
        { role: 'user', content: ' liked to' },
      ],
      max_tokens: 4,
      temperature: 0,
    });
    const cached = r.usage.prompt_tokens_details?.cached_tokens;
    assert.ok(cached >= 5, `cached_tokens ${cached}`);
    assert.ok(r.usage.prompt_tokens > 17);
  });

  check('seeded sampling repeats', async () => {
    const params = chat({ temperature: 0.9, top_p: 0.95, top_k: 40, seed: 7 });
    const a = await client.chat.completions.create(params);
    const b = await client.chat.completions.create(params);
    assert.equal(a.choices[0].message.content, b.choices[0].message.content);
  });

  check('bad JSON is 400', async () => {
    const [status, body] = await post('/v1/chat/completions', '{"messages": [');
    assert.equal(status, 400);
    assertErrorBody(body, 'invalid_json');
    assert.equal(body.error.type, 'invalid_request_error');
  });

  check('an unknown field is 400', async () => {
    const e = await rejection(
      client.chat.completions.create(
        chat({ tools: [{ type: 'function', function: { name: 'f' } }] }),
      ),
    );
    assert.ok(e instanceof OpenAI.BadRequestError);
    assert.equal(e.code, 'unknown_field');
    assert.equal(e.param, 'tools');
  });

  check('a field of the wrong type is 400', async () => {
    const e = await rejection(client.chat.completions.create(chat({ temperature: 'hot' })));
    assert.equal(e.status, 400);
    assert.equal(e.param, 'temperature');
    const n = await rejection(client.chat.completions.create(chat({ n: 2 })));
    assert.equal(n.status, 400);
    assert.equal(n.param, 'n');
  });

  check('max_tokens beyond the context is 400', async () => {
    const e = await rejection(client.chat.completions.create(chat({ max_tokens: 100000 })));
    assert.equal(e.status, 400);
    assert.equal(e.code, 'context_length_exceeded');
    assert.equal(e.param, 'max_tokens');
  });

  check('a prompt beyond the context is 400', async () => {
    const e = await rejection(
      client.completions.create({ model, prompt: 'Once upon a time '.repeat(200) }),
    );
    assert.equal(e.status, 400);
    assert.equal(e.code, 'context_length_exceeded');
    assert.equal(e.param, 'prompt');
  });

  check('a body over --max-body is 413', async () => {
    const big = JSON.stringify({ prompt: 'a'.repeat(80_000) });
    const [status, body] = await post('/v1/completions', big);
    assert.equal(status, 413);
    assertErrorBody(body, 'request_too_large');
  });

  check('an unknown endpoint is 404', async () => {
    const [status, body] = await post('/v1/embeddings', '{}');
    assert.equal(status, 404);
    assertErrorBody(body, 'not_found');
  });

  check('a streaming client that goes away cancels its generation', async () => {
    const before = await health();
    const controller = new AbortController();
    let seen = 0;
    // The client's stream ends quietly when aborted (or throws an abort
    // error, depending on where the abort lands).
    try {
      const stream = await client.chat.completions.create(
        chat({ max_tokens: 200, stream: true }),
        { signal: controller.signal },
      );
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta?.content && ++seen === 2) controller.abort();
      }
    } catch (e) {
      if (!(e instanceof OpenAI.APIUserAbortError) && e.name !== 'AbortError') throw e;
    }
    assert.equal(seen, 2);
    const after = await waitForHealth(
      (h) => h.requests.cancelled === before.requests.cancelled + 1,
    );
    const generated = after.tokens_generated - before.tokens_generated;
    // 200 tokens would take >= 4 s; it stops at the next token or so.
    assert.ok(generated < 20, `${generated} tokens generated after the abort`);
    assert.equal(after.queue.running, 0);
  });

  check('a waiting client that goes away cancels its generation', async () => {
    const before = await health();
    await assert.rejects(
      client.chat.completions.create(chat({ max_tokens: 200 }), {
        signal: AbortSignal.timeout(300),
      }),
    );
    const after = await waitForHealth(
      (h) => h.requests.cancelled === before.requests.cancelled + 1,
    );
    const generated = after.tokens_generated - before.tokens_generated;
    assert.ok(generated < 40, `${generated} tokens generated for 300 ms`);
  });

  check('requests beyond the admission bound get 503, the rest succeed', async () => {
    // --max-queue 2: one generating and two waiting are admitted; each
    // request takes >= 400 ms, so the eight sent at once overlap.
    const before = await health();
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () =>
        client.chat.completions.create(chat({ max_tokens: 20 })),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const busy = results.filter(
      (r) => r.status === 'rejected' && r.reason instanceof OpenAI.APIError &&
        r.reason.status === 503,
    );
    const other = results.filter((r) => r.status === 'rejected' && !busy.includes(r));
    assert.equal(other.length, 0, `other failures: ${other.map((r) => r.reason)}`);
    assert.ok(ok.length >= 3, `${ok.length} succeeded`);
    assert.ok(busy.length >= 1, 'no request was refused');
    for (const r of ok) {
      assert.ok(r.value.choices[0].message.content.startsWith(greedy12));
      assert.equal(r.value.usage.completion_tokens, 20);
    }
    for (const r of busy) {
      assert.equal(r.reason.code, 'server_busy');
      assert.equal(r.reason.type, 'server_error');
    }
    const after = await health();
    assert.equal(after.requests.rejected - before.requests.rejected, busy.length);
    console.log(`     ${ok.length} served, ${busy.length} refused with 503`);
  });
}

let failed = 0;
for (const [name, fn] of checks) {
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (e) {
    console.log(`FAILED - ${name}\n${e.stack ?? e}`);
    failed = 1;
    break;
  }
}
console.log(failed ? 'client test failed' : `all ${checks.length} checks passed`);
process.exit(failed);
