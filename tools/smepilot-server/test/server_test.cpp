// smepilot-server's pieces without HTTP: request validation (every field's
// type and range error is a 4xx, nothing throws), stop strings, the
// admission queue, chat prompts and the generator's KV prefix reuse.
#include "admission.h"
#include "api.h"
#include "generation.h"

#include "smepilot_rt/gguf.h"
#include "smepilot_rt/reference_executor.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <thread>

using namespace smepilot;
using namespace smepilot::server;
using json = nlohmann::json;

namespace {

const char *const user_hi =
    R"("messages": [{"role": "user", "content": "Hi"}])";

std::string chat_body(const std::string &fields) {
  return std::string("{") + user_hi + (fields.empty() ? "" : ", " + fields) +
         "}";
}

/// The error a chat body gets; fails the test when it is accepted.
api_error chat_error(const std::string &body) {
  parsed<chat_request> p = parse_chat_request(body);
  EXPECT_TRUE(p.error.has_value()) << body;
  return p.error.value_or(api_error{});
}

TEST(ServerApi, AcceptsAMinimalChat) {
  parsed<chat_request> p = parse_chat_request(chat_body(""));
  ASSERT_FALSE(p.error) << p.error->message;
  ASSERT_EQ(p.request.turns.size(), 1u);
  EXPECT_EQ(p.request.turns[0].user, "Hi");
  EXPECT_FALSE(p.request.max_tokens);
  EXPECT_FLOAT_EQ(p.request.temperature, 1.0f);
  EXPECT_FALSE(p.request.stream);
}

TEST(ServerApi, ReadsEveryField) {
  parsed<chat_request> p = parse_chat_request(R"({
    "model": "m", "max_tokens": 7, "temperature": 0, "top_p": 0.5,
    "top_k": 3, "min_p": 0.1, "seed": -1, "stop": ["a", "b"], "stream": true,
    "stream_options": {"include_usage": true}, "n": 1,
    "presence_penalty": 0, "frequency_penalty": 0.0, "logit_bias": {},
    "user": "u", "logprobs": false,
    "messages": [{"role": "system", "content": "S"},
                 {"role": "user", "content": [{"type": "text", "text": "A"},
                                              {"type": "text", "text": "B"}]},
                 {"role": "assistant", "content": "R", "name": "bot"},
                 {"role": "user", "content": "Q"}]})");
  ASSERT_FALSE(p.error) << p.error->message;
  const chat_request &c = p.request;
  EXPECT_EQ(c.model, "m");
  EXPECT_EQ(c.max_tokens, 7);
  EXPECT_EQ(c.temperature, 0.0f);
  EXPECT_FLOAT_EQ(c.top_p, 0.5f);
  EXPECT_EQ(c.top_k, 3);
  EXPECT_FLOAT_EQ(c.min_p, 0.1f);
  EXPECT_EQ(c.seed, 0xffffffffu);
  EXPECT_EQ(c.stop, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(c.stream);
  EXPECT_TRUE(c.include_usage);
  EXPECT_EQ(c.system, "S");
  ASSERT_EQ(c.turns.size(), 2u);
  EXPECT_EQ(c.turns[0].user, "A\nB");
  EXPECT_EQ(c.turns[0].assistant, "R");
  EXPECT_EQ(c.turns[1].user, "Q");
}

TEST(ServerApi, NullMeansNotGiven) {
  parsed<chat_request> p = parse_chat_request(chat_body(
      R"("max_tokens": null, "temperature": null, "stop": null, "seed": null, "n": null)"));
  ASSERT_FALSE(p.error) << p.error->message;
  EXPECT_FALSE(p.request.max_tokens);
  EXPECT_FALSE(p.request.seed);
  EXPECT_TRUE(p.request.stop.empty());
}

TEST(ServerApi, MaxCompletionTokensIsMaxTokens) {
  EXPECT_EQ(parse_chat_request(chat_body(R"("max_completion_tokens": 5)"))
                .request.max_tokens,
            5);
  EXPECT_EQ(
      chat_error(chat_body(R"("max_tokens": 4, "max_completion_tokens": 5)"))
          .param,
      "max_completion_tokens");
}

TEST(ServerApi, BadJsonIs400) {
  for (const char *body :
       {"", "{", "{\"messages\": [}", "nul", "{} {}", "{\"a\": 1,}", "\xff"}) {
    api_error e = chat_error(body);
    EXPECT_EQ(e.status, 400) << body;
    EXPECT_EQ(e.code, "invalid_json") << body;
  }
  for (const char *body : {"[]", "1", "\"text\"", "null"}) {
    api_error e = chat_error(body);
    EXPECT_EQ(e.code, "invalid_json") << body;
    EXPECT_NE(e.message.find("must be a JSON object"), std::string::npos);
  }
}

/// Each field with a value of the wrong type or range: 400 naming the field.
TEST(ServerApi, EveryFieldTypeErrorIs400) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("model": 1)", "model"},
      {R"("max_tokens": "10")", "max_tokens"},
      {R"("max_tokens": 1.5)", "max_tokens"},
      {R"("max_tokens": 0)", "max_tokens"},
      {R"("max_tokens": -3)", "max_tokens"},
      {R"("max_tokens": 2000000000)", "max_tokens"},
      {R"("max_tokens": 18446744073709551615)", "max_tokens"},
      {R"("max_tokens": 1e30)", "max_tokens"},
      {R"("max_completion_tokens": true)", "max_completion_tokens"},
      {R"("temperature": "hot")", "temperature"},
      {R"("temperature": 2.5)", "temperature"},
      {R"("temperature": -0.1)", "temperature"},
      {R"("top_p": 1.01)", "top_p"},
      {R"("top_p": [])", "top_p"},
      {R"("top_k": -1)", "top_k"},
      {R"("top_k": 2.5)", "top_k"},
      {R"("min_p": {})", "min_p"},
      {R"("seed": "7")", "seed"},
      {R"("seed": 0.5)", "seed"},
      {R"("stop": 5)", "stop"},
      {R"("stop": [1])", "stop[0]"},
      {R"("stop": ["a", null])", "stop[1]"},
      {R"("stop": "")", "stop"},
      {R"("stop": ["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q"])",
       "stop"},
      {R"("stream": "yes")", "stream"},
      {R"("stream": 1)", "stream"},
      {R"("stream_options": 1)", "stream_options"},
      {R"("stream_options": {"include_usage": "yes"})",
       "stream_options.include_usage"},
      {R"("stream_options": {"other": true})", "stream_options.other"},
      {R"("n": 2)", "n"},
      {R"("n": "1")", "n"},
      {R"("presence_penalty": 0.5)", "presence_penalty"},
      {R"("frequency_penalty": "0")", "frequency_penalty"},
      {R"("logit_bias": {"1": 5})", "logit_bias"},
      {R"("logprobs": true)", "logprobs"},
      {R"("top_logprobs": 2)", "top_logprobs"},
      {R"("user": 5)", "user"},
      {R"("tools": [])", "tools"},
      {R"("response_format": {"type": "json_object"})", "response_format"},
  };
  for (const auto &[fields, param] : cases) {
    api_error e = chat_error(chat_body(fields));
    EXPECT_EQ(e.status, 400) << fields;
    EXPECT_EQ(e.param, param) << fields << ": " << e.message;
    EXPECT_EQ(e.type, "invalid_request_error");
    EXPECT_FALSE(e.message.empty());
  }
}

TEST(ServerApi, UnknownFieldIsNamed) {
  api_error e = chat_error(chat_body(R"("tools": [])"));
  EXPECT_EQ(e.code, "unknown_field");
  EXPECT_NE(e.message.find("unknown field 'tools'"), std::string::npos);
}

TEST(ServerApi, MessageErrorsAre400) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({})", "messages"},
      {R"({"messages": null})", "messages"},
      {R"({"messages": "Hi"})", "messages"},
      {R"({"messages": []})", "messages"},
      {R"({"messages": [1]})", "messages[0]"},
      {R"({"messages": [{"content": "Hi"}]})", "messages[0].role"},
      {R"({"messages": [{"role": 1, "content": "Hi"}]})", "messages[0].role"},
      {R"({"messages": [{"role": "tool", "content": "Hi"}]})",
       "messages[0].role"},
      {R"({"messages": [{"role": "user", "content": 5}]})",
       "messages[0].content"},
      {R"({"messages": [{"role": "user", "content": [5]}]})",
       "messages[0].content[0]"},
      {R"({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]})",
       "messages[0].content[0].image_url"},
      {R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})",
       "messages[0].content[0].type"},
      {R"({"messages": [{"role": "user", "content": [{"type": "text", "text": 1}]}]})",
       "messages[0].content[0].text"},
      {R"({"messages": [{"role": "user", "content": "Hi", "extra": 1}]})",
       "messages[0].extra"},
      {R"({"messages": [{"role": "user", "content": "Hi", "name": 1}]})",
       "messages[0].name"},
      // The order of the roles.
      {R"({"messages": [{"role": "assistant", "content": "A"}]})",
       "messages[0].role"},
      {R"({"messages": [{"role": "user", "content": "A"}, {"role": "user", "content": "B"}]})",
       "messages[1].role"},
      {R"({"messages": [{"role": "user", "content": "A"}, {"role": "system", "content": "B"}]})",
       "messages[1].role"},
      {R"({"messages": [{"role": "user", "content": "A"}, {"role": "assistant", "content": ""}, {"role": "user", "content": "B"}]})",
       "messages[1].role"},
      {R"({"messages": [{"role": "user", "content": "A"}, {"role": "assistant", "content": "B"}]})",
       "messages"},
      {R"({"messages": [{"role": "system", "content": "A"}]})", "messages"},
  };
  for (const auto &[body, param] : cases) {
    api_error e = chat_error(body);
    EXPECT_EQ(e.status, 400) << body;
    EXPECT_EQ(e.param, param) << body << ": " << e.message;
  }
}

TEST(ServerApi, CompletionFields) {
  parsed<completion_request> p =
      parse_completion_request(R"({"prompt": "Once", "model": "x"})");
  ASSERT_FALSE(p.error) << p.error->message;
  EXPECT_EQ(p.request.prompt, "Once");
  EXPECT_EQ(p.request.max_tokens, 16); // OpenAI's default
  p = parse_completion_request(R"({"prompt": ["Once"], "max_tokens": 3})");
  ASSERT_FALSE(p.error);
  EXPECT_EQ(p.request.prompt, "Once");
  EXPECT_EQ(p.request.max_tokens, 3);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({})", "prompt"},
      {R"({"prompt": 5})", "prompt"},
      {R"({"prompt": ["a", "b"]})", "prompt"},
      {R"({"prompt": [1, 2]})", "prompt"},
      {R"({"prompt": "a", "echo": true})", "echo"},
      {R"({"prompt": "a", "best_of": 2})", "best_of"},
      {R"({"prompt": "a", "suffix": "z"})", "suffix"},
      {R"({"prompt": "a", "logprobs": 2})", "logprobs"},
      {R"({"prompt": "a", "messages": []})", "messages"},
      {R"({"prompt": "a", "max_tokens": "5"})", "max_tokens"},
  };
  for (const auto &[body, param] : cases) {
    parsed<completion_request> q = parse_completion_request(body);
    ASSERT_TRUE(q.error) << body;
    EXPECT_EQ(q.error->status, 400) << body;
    EXPECT_EQ(q.error->param, param) << body << ": " << q.error->message;
  }
}

/// Every field takes every kind of JSON value: the parser answers (ok or
/// 4xx) and never throws.
TEST(ServerApi, NoValueOfAnyFieldThrows) {
  const std::vector<std::string> fields = {"model",
                                           "messages",
                                           "max_tokens",
                                           "max_completion_tokens",
                                           "temperature",
                                           "top_p",
                                           "top_k",
                                           "min_p",
                                           "seed",
                                           "stop",
                                           "stream",
                                           "stream_options",
                                           "n",
                                           "presence_penalty",
                                           "frequency_penalty",
                                           "logit_bias",
                                           "logprobs",
                                           "top_logprobs",
                                           "user",
                                           "prompt",
                                           "echo",
                                           "best_of",
                                           "suffix",
                                           "unknown"};
  const std::vector<std::string> values = {
      "null",
      "true",
      "false",
      "0",
      "-1",
      "1",
      "2",
      "1.5",
      "-1e308",
      "1e308",
      "9223372036854775807",
      "-9223372036854775808",
      "18446744073709551615",
      "\"\"",
      "\"x\"",
      "\"\\u0000\"",
      "[]",
      "[1]",
      "[\"a\"]",
      "[null]",
      "{}",
      "{\"a\": 1}",
      "[{\"role\": \"user\"}]",
      "[{\"role\": \"user\", \"content\": [{}]}]",
      "\"\xff\xfe\""};
  int answered = 0;
  for (const std::string &f : fields)
    for (const std::string &v : values) {
      const std::string chat = chat_body("\"" + f + "\": " + v);
      const std::string completion =
          "{\"prompt\": \"a\", \"" + f + "\": " + v + "}";
      EXPECT_NO_THROW({
        parsed<chat_request> p = parse_chat_request(chat);
        if (p.error) {
          EXPECT_GE(p.error->status, 400);
          EXPECT_LT(p.error->status, 500);
          EXPECT_TRUE(json::accept(error_body(*p.error)));
        }
        parsed<completion_request> q = parse_completion_request(completion);
        if (q.error)
          EXPECT_EQ(q.error->status, 400);
        ++answered;
      }) << chat;
    }
  EXPECT_EQ(answered, int(fields.size() * values.size()));
}

TEST(ServerApi, DeepNestingIsAnError) {
  const std::string deep_bad(100000, '[');
  EXPECT_EQ(chat_error(deep_bad).code, "invalid_json");
  const std::string deep = std::string(20000, '[') + std::string(20000, ']');
  EXPECT_EQ(chat_error(chat_body("\"stop\": " + deep)).param, "stop[0]");
}

TEST(ServerApi, ErrorBodyIsOpenAIShaped) {
  api_error e;
  e.message = "bad \xff byte";
  e.param = "messages";
  json j = json::parse(error_body(e));
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_EQ(j["error"]["param"], "messages");
  EXPECT_TRUE(j["error"]["code"].is_null());
  EXPECT_EQ(j["error"]["message"], "bad \xEF\xBF\xBD byte");
}

TEST(ServerApi, BearerToken) {
  EXPECT_TRUE(bearer_token_matches("Bearer sekret", "sekret"));
  EXPECT_TRUE(bearer_token_matches("bearer sekret", "sekret"));
  EXPECT_FALSE(bearer_token_matches("Bearer sekret2", "sekret"));
  EXPECT_FALSE(bearer_token_matches("Bearer sekre", "sekret"));
  EXPECT_FALSE(bearer_token_matches("Basic sekret", "sekret"));
  EXPECT_FALSE(bearer_token_matches("", "sekret"));
  EXPECT_FALSE(bearer_token_matches("Bearer ", ""));
}

TEST(ServerStopMatcher, HoldsBackAPossibleStart) {
  stop_matcher m({"Lily", "END"});
  EXPECT_EQ(m.push("a girl named L"), "a girl named ");
  EXPECT_EQ(m.push("i"), "");
  EXPECT_EQ(m.push("on."), "Lion.");
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.push(" Li"), " ");
  EXPECT_EQ(m.push("ly was"), "");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.push("more"), "");
  EXPECT_EQ(m.flush(), "");
}

TEST(ServerStopMatcher, EarliestStopWinsAndFlushReleases) {
  stop_matcher m({"cd", "b"});
  EXPECT_EQ(m.push("abcd"), "a");
  EXPECT_TRUE(m.stopped());
  stop_matcher n({"xyz"});
  EXPECT_EQ(n.push("axy"), "a");
  EXPECT_EQ(n.flush(), "xy");
  stop_matcher none({});
  EXPECT_EQ(none.push("text"), "text");
}

TEST(ServerAdmissionQueue, BoundsTheRequestsAdmitted) {
  admission_queue q(2);
  auto a = q.try_enter(), b = q.try_enter(), c = q.try_enter();
  ASSERT_TRUE(a && b && c);
  EXPECT_FALSE(q.try_enter()); // one running + two waiting
  EXPECT_TRUE(a->wait_turn([] { return false; }));
  EXPECT_EQ(q.current().running, 1u);
  EXPECT_EQ(q.current().waiting, 2u);
  EXPECT_FALSE(q.try_enter());
  a.reset();
  auto d = q.try_enter();
  EXPECT_TRUE(d);
  EXPECT_FALSE(q.try_enter());
}

TEST(ServerAdmissionQueue, ServesInOrderOneAtATime) {
  admission_queue q(8);
  std::vector<std::unique_ptr<admission_queue::ticket>> tickets;
  for (int i = 0; i < 5; ++i)
    tickets.push_back(q.try_enter());
  std::mutex m;
  std::vector<int> order;
  std::atomic<int> inside{0}, most_inside{0};
  std::vector<std::thread> threads;
  // Started in reverse: the order served is still the order admitted.
  for (int i = 4; i >= 0; --i)
    threads.emplace_back([&, i] {
      ASSERT_TRUE(tickets[size_t(i)]->wait_turn([] { return false; },
                                                std::chrono::milliseconds(1)));
      const int now = ++inside;
      most_inside = std::max(most_inside.load(), now);
      {
        std::lock_guard<std::mutex> lock(m);
        order.push_back(i);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      --inside;
      tickets[size_t(i)].reset();
    });
  for (std::thread &t : threads)
    t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(most_inside.load(), 1);
}

TEST(ServerAdmissionQueue, AWaiterWhoseClientLeftLeavesTheQueue) {
  admission_queue q(1);
  auto a = q.try_enter(), b = q.try_enter();
  ASSERT_TRUE(a->wait_turn([] { return false; }));
  EXPECT_FALSE(q.try_enter());
  EXPECT_FALSE(b->wait_turn([] { return true; }, std::chrono::milliseconds(1)));
  EXPECT_EQ(q.current().waiting, 0u);
  EXPECT_TRUE(q.try_enter()); // b's place is free
}

// --- With a model ------------------------------------------------------------

struct loaded_model {
  std::unique_ptr<rt::gguf_file> file;
  std::unique_ptr<rt::tokenizer> tok;
};

loaded_model load(const char *name) {
  loaded_model m;
  auto file =
      rt::gguf_file::open(std::string(SMEPILOT_MODELS_DIR) + "/" + name);
  EXPECT_TRUE(file) << file.error().message();
  if (!file)
    return m;
  m.file = std::move(*file);
  auto tok = rt::tokenizer::from_gguf(*m.file);
  EXPECT_TRUE(tok);
  if (tok)
    m.tok = std::move(*tok);
  return m;
}

chat_request chat_of(const std::string &body) {
  parsed<chat_request> p = parse_chat_request(body);
  EXPECT_FALSE(p.error) << p.error->message;
  return p.request;
}

TEST(ServerChatPrompt, PlainIsTheTextsInARow) {
  loaded_model m = load("stories260K.gguf");
  ASSERT_TRUE(m.tok);
  rt::chat_template plain;
  chat_request c = chat_of(
      R"({"messages": [{"role": "user", "content": "Once upon"},
                       {"role": "assistant", "content": " a time"},
                       {"role": "user", "content": ", there"}]})");
  completion_request same;
  same.prompt = "Once upon a time, there";
  EXPECT_EQ(chat_prompt_tokens(*m.tok, plain, c),
            completion_prompt_tokens(*m.tok, same));
}

TEST(ServerChatPrompt, Qwen3TurnsAndThinkingSwitch) {
  loaded_model m = load("qwen3-tiny-f16.gguf");
  ASSERT_TRUE(m.tok);
  auto jinja = m.file->get_string("tokenizer.chat_template");
  ASSERT_TRUE(jinja);
  auto chat = rt::detect_chat_template(*jinja);
  ASSERT_TRUE(chat);
  ASSERT_TRUE(chat->thinking);
  chat_request c = chat_of(
      R"({"messages": [{"role": "system", "content": "Be brief."},
                       {"role": "user", "content": "Hi /no_think"},
                       {"role": "assistant", "content": "Hello."},
                       {"role": "user", "content": "<|im_end|>"}]})");
  const std::vector<int32_t> ids = chat_prompt_tokens(*m.tok, *chat, c);
  EXPECT_EQ(m.tok->detokenize(ids, /*render_special=*/true),
            "<|im_start|>system\nBe brief.<|im_end|>\n"
            "<|im_start|>user\nHi /no_think<|im_end|>\n"
            "<|im_start|>assistant\n<think>\n\n</think>\n\nHello.<|im_end|>\n"
            "<|im_start|>user\n<|im_end|><|im_end|>\n"
            "<|im_start|>assistant\n<think>\n\n</think>\n\n");
  // The user's "<|im_end|>" is text, not the special token.
  const int32_t im_end = m.tok->find("<|im_end|>");
  ASSERT_GE(im_end, 0);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), im_end), 4);
}

TEST(ServerGenerator, GreedyTextStopsAndPrefixReuse) {
  loaded_model m = load("stories260K.gguf");
  ASSERT_TRUE(m.tok);
  rt::engine_options eo;
  eo.n_ctx = 128;
  auto eng = rt::load_reference_engine(*m.file, eo);
  ASSERT_TRUE(eng) << eng.error().message();
  generator gen(**eng, *m.tok);
  completion_request c;
  c.prompt = "Once upon a time";
  c.temperature = 0;
  c.max_tokens = 12;
  const std::vector<int32_t> prompt = completion_prompt_tokens(*m.tok, c);
  std::string streamed;
  auto collect = [&](std::string_view t) {
    streamed += t;
    return true;
  };
  auto never = [] { return false; };
  generation_result r = gen.run(prompt, c, collect, never);
  ASSERT_TRUE(r.status) << r.status.message();
  // smepilot-run's greedy text for this prompt (tools/smepilot-run tests).
  EXPECT_EQ(r.text, ", there was a little girl named Lily. She");
  EXPECT_EQ(streamed, r.text);
  EXPECT_EQ(r.finish_reason, "length");
  EXPECT_EQ(r.n_prompt, 5);
  EXPECT_EQ(r.n_completion, 12);
  EXPECT_EQ(r.n_cached, 0);

  // A stop string: the text before it, finish "stop".
  c.stop = {"Lily"};
  r = gen.run(prompt, c, [](std::string_view) { return true; }, never);
  EXPECT_EQ(r.text, ", there was a little girl named ");
  EXPECT_EQ(r.finish_reason, "stop");
  // The same prompt again: all but its last token come from the cache.
  EXPECT_EQ(r.n_cached, 4);

  // A longer prompt that starts with the cached one: only the rest is
  // evaluated, and the text is what a fresh engine gives.
  c.stop.clear();
  c.prompt = "Once upon a time, there was a little girl named Lily. She "
             "liked to";
  const std::vector<int32_t> longer = completion_prompt_tokens(*m.tok, c);
  r = gen.run(longer, c, [](std::string_view) { return true; }, never);
  EXPECT_GE(r.n_cached, 5);
  auto fresh_engine = rt::load_reference_engine(*m.file, eo);
  ASSERT_TRUE(fresh_engine);
  generator fresh(**fresh_engine, *m.tok);
  generation_result f =
      fresh.run(longer, c, [](std::string_view) { return true; }, never);
  EXPECT_EQ(f.n_cached, 0);
  EXPECT_EQ(r.text, f.text);
  EXPECT_FALSE(r.text.empty());

  // Cancelled before the first token, or by a failed delivery.
  r = gen.run(prompt, c, collect, [] { return true; });
  EXPECT_EQ(r.finish_reason, "cancelled");
  EXPECT_EQ(r.n_completion, 0);
  r = gen.run(prompt, c, [](std::string_view) { return false; }, never);
  EXPECT_EQ(r.finish_reason, "cancelled");
  EXPECT_EQ(r.n_completion, 1);
}

} // namespace
