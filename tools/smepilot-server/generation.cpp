// smepilot-server: prompts and the generation loop (generation.h).
#include "generation.h"

#include "smepilot_rt/sampler.h"

#include <algorithm>
#include <random>
#include <thread>

namespace smepilot::server {

namespace {

void append(std::vector<int32_t> &tokens, const std::vector<int32_t> &more) {
  tokens.insert(tokens.end(), more.begin(), more.end());
}

void append_bos(const rt::tokenizer &tok, std::vector<int32_t> &tokens) {
  if (tok.add_bos_default() && tok.bos_id() >= 0)
    tokens.push_back(tok.bos_id());
}

} // namespace

std::vector<int32_t> chat_prompt_tokens(const rt::tokenizer &tok,
                                        const rt::chat_template &chat,
                                        const chat_request &request) {
  std::vector<int32_t> tokens;
  append_bos(tok, tokens);
  if (chat.family == rt::chat_family::plain) {
    std::string text = request.system;
    for (const chat_turn_text &turn : request.turns)
      text += turn.user + turn.assistant;
    append(tokens, tok.encode(text, /*add_special=*/false,
                              /*parse_special=*/false));
    return tokens;
  }
  bool thinking = true;
  for (size_t i = 0; i < request.turns.size(); ++i) {
    const chat_turn_text &turn = request.turns[i];
    if (chat.thinking)
      thinking = rt::chat_thinking_switch(turn.user, thinking);
    rt::chat_turn t;
    t.first = i == 0;
    t.system = t.first ? std::string_view(request.system) : std::string_view();
    t.user = turn.user;
    t.thinking = thinking;
    for (const rt::chat_piece &piece : rt::chat_format_turn(chat, t))
      append(tokens, tok.encode(piece.text, false, piece.special));
    // An earlier reply; the next turn's text closes it.
    if (i + 1 < request.turns.size())
      append(tokens, tok.encode(turn.assistant, false, false));
  }
  return tokens;
}

std::vector<int32_t>
completion_prompt_tokens(const rt::tokenizer &tok,
                         const completion_request &request) {
  return tok.encode(request.prompt, /*add_special=*/true,
                    /*parse_special=*/true);
}

std::string stop_matcher::push(std::string_view text) {
  if (stopped_)
    return {};
  held_.append(text);
  size_t first = std::string::npos;
  for (const std::string &s : stops_)
    first = std::min(first, held_.find(s));
  if (first != std::string::npos) {
    stopped_ = true;
    std::string out = held_.substr(0, first);
    held_.clear();
    return out;
  }
  // Keep the longest end of the text that begins a stop string.
  size_t keep = 0;
  for (const std::string &s : stops_)
    for (size_t n = std::min(s.size() - 1, held_.size()); n > keep; --n)
      if (held_.compare(held_.size() - n, n, s, 0, n) == 0) {
        keep = n;
        break;
      }
  std::string out = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string stop_matcher::flush() {
  std::string out;
  if (!stopped_)
    out.swap(held_);
  held_.clear();
  return out;
}

generation_result
generator::run(const std::vector<int32_t> &prompt,
               const generation_request &params,
               const std::function<bool(std::string_view)> &on_text,
               const std::function<bool()> &cancelled) {
  generation_result r;
  r.n_prompt = int64_t(prompt.size());
  const int64_t n_ctx = engine_.n_ctx();
  logits_.resize(size_t(engine_.n_vocab()));

  // The cached tokens the prompt starts with stay; at least the prompt's
  // last token is evaluated, for its logits.
  size_t common = 0;
  while (common < cached_.size() && common < prompt.size() &&
         cached_[common] == prompt[common])
    ++common;
  const size_t start = std::min(common, prompt.size() - 1);
  r.n_cached = int64_t(start);
  cached_.resize(start);
  rt::status st =
      engine_.eval(std::span<const int32_t>(prompt).subspan(start),
                   int32_t(start), rt::logits_mode::last, logits_.data());
  if (!st) {
    // What the cache holds after a failure is not known: start afresh.
    engine_.reset();
    cached_.clear();
    r.status = st;
    return r;
  }
  cached_ = prompt;

  rt::sampler_params sp;
  sp.temp = params.temperature;
  sp.top_k = params.top_k;
  sp.top_p = params.top_p;
  sp.min_p = params.min_p;
  sp.repeat_penalty = 1.0f;
  sp.seed = params.seed ? *params.seed : std::random_device{}();
  rt::sampler smp(sp);

  rt::detokenizer detok(tok_, {.sequence_start = false});
  stop_matcher stops(params.stop);
  const int64_t max_new = params.max_tokens.value_or(n_ctx - r.n_prompt);
  bool delivered = true;
  auto send = [&](const std::string &text) {
    if (text.empty() || !delivered)
      return;
    r.text += text;
    delivered = on_text(text);
  };
  int64_t pos = r.n_prompt;
  for (;;) {
    if (!delivered || cancelled()) {
      r.finish_reason = "cancelled";
      return r;
    }
    const int32_t id = smp.sample(logits_);
    if (tok_.is_eog(id)) {
      r.finish_reason = "stop";
      break;
    }
    ++r.n_completion;
    send(stops.push(detok.push(id)));
    if (stops.stopped()) {
      r.finish_reason = "stop";
      break;
    }
    if (r.n_completion >= max_new || pos >= n_ctx) {
      r.finish_reason = "length";
      break;
    }
    st = engine_.eval({&id, 1}, int32_t(pos), rt::logits_mode::last,
                      logits_.data());
    if (!st) {
      engine_.reset();
      cached_.clear();
      r.status = st;
      return r;
    }
    cached_.push_back(id);
    ++pos;
    if (token_delay.count() > 0)
      std::this_thread::sleep_for(token_delay);
  }
  send(stops.push(detok.flush()));
  send(stops.flush());
  if (!delivered)
    r.finish_reason = "cancelled";
  return r;
}

} // namespace smepilot::server
