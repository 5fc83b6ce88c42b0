// smepilot-server: the OpenAI API's request bodies, parsed and checked.
//
// A body is parsed with nlohmann::json's non-throwing parser and every field
// is checked for its type and range before it is read, so no request can
// make the server throw: what is wrong becomes an api_error (a 4xx status and
// OpenAI's error object). The fields accepted are listed in docs/server.md;
// any other field is refused (400), and a few that OpenAI clients may send
// are accepted only with the value that means "off" (n = 1,
// presence_penalty = 0, logprobs = false, ...).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smepilot::server {

/// An error answered to the client: status and OpenAI's error object
/// {"error": {"message", "type", "param", "code"}}.
struct api_error {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string
      param; ///< The field at fault ("messages[1].content"); empty: null.
  std::string code; ///< A machine-readable reason; empty: null.
};

/// The JSON text of `e`'s body.
std::string error_body(const api_error &e);

/// One turn of a chat: the user's text and the assistant's reply to it (empty
/// for the last turn, whose reply is to be generated).
struct chat_turn_text {
  std::string user;
  std::string assistant;
};

/// What both endpoints share: sampling and output.
struct generation_request {
  std::string model;
  /// max_tokens (or max_completion_tokens); nullopt: until the end of
  /// generation or a full context.
  std::optional<int64_t> max_tokens;
  float temperature = 1.0f; ///< OpenAI's default; 0: greedy.
  float top_p = 1.0f;
  int32_t top_k = 0;  ///< Extension (llama.cpp's); 0: off.
  float min_p = 0.0f; ///< Extension (llama.cpp's); 0: off.
  std::optional<uint32_t> seed;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false; ///< stream_options.include_usage
};

struct chat_request : generation_request {
  std::string system; ///< The system (or developer) message; empty: none.
  /// user, assistant, user, ..., user: the last turn's reply is generated.
  std::vector<chat_turn_text> turns;
};

struct completion_request : generation_request {
  std::string prompt;
};

/// A parsed request, or the error to answer.
template <typename T> struct parsed {
  std::optional<api_error> error;
  T request;
};

/// Largest max_tokens accepted before the context is known (the context
/// check comes after tokenization).
inline constexpr int64_t max_tokens_limit = 1 << 30;
/// Most stop strings in one request, and the longest one (bytes).
inline constexpr size_t max_stop_strings = 16;
inline constexpr size_t max_stop_bytes = 256;

/// POST /v1/chat/completions.
parsed<chat_request> parse_chat_request(std::string_view body);
/// POST /v1/completions. max_tokens defaults to 16, as OpenAI's.
parsed<completion_request> parse_completion_request(std::string_view body);

/// Whether an Authorization header value carries `api_key` as a bearer
/// token ("Bearer KEY"). Compared in constant time.
bool bearer_token_matches(std::string_view header, std::string_view api_key);

} // namespace smepilot::server
