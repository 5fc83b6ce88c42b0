// smepilot-server: from a parsed request to tokens, and from tokens to text.
//
// One engine serves one request at a time (admission.h decides whose turn
// it is). The generator remembers which tokens its KV cache holds, so that a
// request whose prompt starts with them (a chat continuing the previous
// conversation) evaluates only what follows: the engine evaluates at the
// first position where the prompts differ and overwrites the cache from
// there (engine.h).
#pragma once

#include "api.h"

#include "smepilot_rt/chat_template.h"
#include "smepilot_rt/engine.h"
#include "smepilot_rt/tokenizer.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace smepilot::server {

/// The tokens of a chat, written in the template's family: BOS when the
/// model starts with it, then each turn (chat_format_turn), earlier replies
/// as their text. The plain family (no template) is the texts of the
/// messages one after the other, as they are. Template text is tokenized with
/// special tokens recognized, the messages' text without (a message cannot
/// close its turn by typing "<|im_end|>"). Qwen3's /think and /no_think
/// switches apply from the turn that holds them on.
std::vector<int32_t> chat_prompt_tokens(const rt::tokenizer &tok,
                                        const rt::chat_template &chat,
                                        const chat_request &request);

/// The tokens of a completion prompt: BOS when the model starts with it, then
/// the text with special tokens recognized (as smepilot-run -p).
std::vector<int32_t>
completion_prompt_tokens(const rt::tokenizer &tok,
                         const completion_request &request);

/// Holds back streamed text that may be the start of a stop string, so that
/// a stop string is never sent, not even in part.
class stop_matcher {
public:
  explicit stop_matcher(std::vector<std::string> stops)
      : stops_(std::move(stops)) {}

  /// Appends `text`; returns what can be sent now. After a stop string is
  /// found, stopped() is true: the text before it is returned and anything
  /// after it is dropped.
  std::string push(std::string_view text);
  /// The text held back at the end (empty once stopped).
  std::string flush();
  bool stopped() const { return stopped_; }

private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

struct generation_result {
  std::string text; ///< All the text sent (the stop string excluded).
  int64_t n_prompt = 0;
  int64_t n_cached = 0; ///< Prompt tokens found in the KV cache, not evaluated.
  int64_t n_completion = 0;
  /// "stop" (end of generation or a stop string), "length" (max_tokens or a
  /// full context), or "cancelled" (the client went away).
  std::string finish_reason;
  rt::status status; ///< An engine error.
};

class generator {
public:
  generator(rt::engine &engine, const rt::tokenizer &tok)
      : engine_(engine), tok_(tok) {}

  /// Sleeps this long after each token (--debug-token-delay-ms: makes
  /// generation slow enough for tests of queueing and cancellation).
  std::chrono::milliseconds token_delay{0};

  /// Generates the reply to `prompt` (which fits the context with room for
  /// one token; the caller checks). `on_text` receives the text as it
  /// becomes final and returns false when it cannot be delivered;
  /// `cancelled` is asked before each token. Either ends the generation with
  /// finish_reason "cancelled".
  generation_result run(const std::vector<int32_t> &prompt,
                        const generation_request &params,
                        const std::function<bool(std::string_view)> &on_text,
                        const std::function<bool()> &cancelled);

private:
  rt::engine &engine_;
  const rt::tokenizer &tok_;
  std::vector<int32_t> cached_; ///< The tokens in the KV cache, in order.
  std::vector<float> logits_;
};

} // namespace smepilot::server
