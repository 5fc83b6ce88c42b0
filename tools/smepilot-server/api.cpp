// smepilot-server: request parsing. Every read is guarded by a type test
// (is_string, is_number_integer, ...) and objects are searched with find(),
// so nlohmann::json never throws here; the body is parsed with
// json::parse(body, nullptr, false), which returns a discarded value on bad
// JSON.
#include "api.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>

namespace smepilot::server {

using json = nlohmann::json;

std::string error_body(const api_error &e) {
  json error = {{"message", e.message},
                {"type", e.type},
                {"param", e.param.empty() ? json(nullptr) : json(e.param)},
                {"code", e.code.empty() ? json(nullptr) : json(e.code)}};
  // Strings from a request may be invalid UTF-8: replaced, never thrown.
  return json{{"error", std::move(error)}}.dump(-1, ' ', false,
                                                json::error_handler_t::replace);
}

namespace {

api_error bad(std::string param, std::string message, std::string code = {}) {
  api_error e;
  e.message = std::move(message);
  e.param = std::move(param);
  e.code = std::move(code);
  return e;
}

const char *type_name(const json &v) {
  switch (v.type()) {
  case json::value_t::null:
    return "null";
  case json::value_t::boolean:
    return "a boolean";
  case json::value_t::string:
    return "a string";
  case json::value_t::array:
    return "an array";
  case json::value_t::object:
    return "an object";
  case json::value_t::number_float:
    return "a number with a fraction";
  default:
    return "an integer";
  }
}

api_error wrong_type(const std::string &param, const json &v,
                     const char *expected) {
  return bad(param,
             "'" + param + "' must be " + expected + ", not " + type_name(v),
             "invalid_type");
}

/// The checks of one object's fields. Each reader leaves its output alone
/// when the field is absent or null (OpenAI's "not given").
class field_reader {
public:
  explicit field_reader(const json &object, std::string prefix = {})
      : object_(object), prefix_(std::move(prefix)) {}

  std::optional<api_error> error;

  const json *find(const char *key) {
    seen_.push_back(key);
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null() || error)
      return nullptr;
    return &*it;
  }
  std::string name(const char *key) const { return prefix_ + key; }

  void string(const char *key, std::string &out) {
    if (const json *v = find(key)) {
      if (!v->is_string())
        error = wrong_type(name(key), *v, "a string");
      else
        out = v->get_ref<const std::string &>();
    }
  }
  void boolean(const char *key, bool &out) {
    if (const json *v = find(key)) {
      if (!v->is_boolean())
        error = wrong_type(name(key), *v, "a boolean");
      else
        out = v->get<bool>();
    }
  }
  void integer(const char *key, int64_t lo, int64_t hi,
               std::optional<int64_t> &out) {
    const json *v = find(key);
    if (!v)
      return;
    if (!v->is_number_integer()) {
      error = wrong_type(name(key), *v, "an integer");
      return;
    }
    // An unsigned beyond INT64_MAX is out of every range here.
    const bool huge =
        v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX);
    const int64_t value = huge ? INT64_MAX : v->get<int64_t>();
    if (huge || value < lo || value > hi) {
      error = bad(name(key),
                  "'" + name(key) + "' is " + v->dump() +
                      ", out of range: " + "expected " + std::to_string(lo) +
                      " to " + std::to_string(hi),
                  "out_of_range");
      return;
    }
    out = value;
  }
  void number(const char *key, double lo, double hi, float &out) {
    const json *v = find(key);
    if (!v)
      return;
    if (!v->is_number()) {
      error = wrong_type(name(key), *v, "a number");
      return;
    }
    const double value = v->get<double>();
    if (!std::isfinite(value) || value < lo || value > hi) {
      error = bad(name(key),
                  "'" + name(key) + "' is " + v->dump() +
                      ", out of range: expected " + short_number(lo) + " to " +
                      short_number(hi),
                  "out_of_range");
      return;
    }
    out = float(value);
  }
  /// A field accepted only with the value that changes nothing (OpenAI
  /// clients may send n = 1 or presence_penalty = 0 on their own).
  void only(const char *key, const json &neutral, const char *what) {
    const json *v = find(key);
    if (!v || *v == neutral)
      return;
    error = bad(name(key),
                "'" + name(key) + "' is not supported by this server: " + what,
                "unsupported_value");
  }
  /// Call after every reader: a field no reader asked for is an error.
  void refuse_unknown_fields() {
    if (error || !object_.is_object())
      return;
    for (auto it = object_.begin(); it != object_.end(); ++it) {
      bool known = false;
      for (const char *k : seen_)
        known = known || it.key() == k;
      if (!known) {
        error = bad(prefix_ + it.key(),
                    "unknown field '" + prefix_ + it.key() +
                        "': this server does not accept it (docs/server.md "
                        "lists the fields it does)",
                    "unknown_field");
        return;
      }
    }
  }

private:
  static std::string short_number(double x) {
    std::string s = std::to_string(x);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.')
      s.pop_back();
    return s;
  }

  const json &object_;
  std::string prefix_;
  std::vector<const char *> seen_;
};

/// The body as a JSON object, or the error.
std::optional<api_error> parse_object(std::string_view body, json &out) {
  out = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded())
    return bad("", "the request body is not valid JSON", "invalid_json");
  if (!out.is_object())
    return bad("",
               std::string("the request body must be a JSON object, not ") +
                   type_name(out),
               "invalid_json");
  return std::nullopt;
}

/// The fields both endpoints share.
void read_generation_fields(field_reader &r, generation_request &g) {
  r.string("model", g.model);
  std::optional<int64_t> max_tokens;
  r.integer("max_tokens", 1, max_tokens_limit, max_tokens);
  if (max_tokens)
    g.max_tokens = max_tokens;
  r.number("temperature", 0, 2, g.temperature);
  r.number("top_p", 0, 1, g.top_p);
  std::optional<int64_t> top_k;
  r.integer("top_k", 0, INT32_MAX, top_k);
  if (top_k)
    g.top_k = int32_t(*top_k);
  r.number("min_p", 0, 1, g.min_p);
  std::optional<int64_t> seed;
  r.integer("seed", INT64_MIN, INT64_MAX, seed);
  if (seed) // the sampler's RNG takes 32 bits
    g.seed = uint32_t(uint64_t(*seed));
  if (const json *v = r.find("stop")) {
    if (v->is_string()) {
      g.stop.push_back(v->get<std::string>());
    } else if (v->is_array()) {
      if (v->size() > max_stop_strings)
        r.error =
            bad("stop",
                "'stop' holds " + std::to_string(v->size()) +
                    " strings; at most " + std::to_string(max_stop_strings),
                "out_of_range");
      for (size_t i = 0; !r.error && i < v->size(); ++i) {
        const json &s = (*v)[i];
        if (!s.is_string())
          r.error =
              wrong_type("stop[" + std::to_string(i) + "]", s, "a string");
        else
          g.stop.push_back(s.get<std::string>());
      }
    } else {
      r.error = wrong_type("stop", *v, "a string or an array of strings");
    }
    for (size_t i = 0; !r.error && i < g.stop.size(); ++i)
      if (g.stop[i].empty() || g.stop[i].size() > max_stop_bytes)
        r.error = bad("stop",
                      "a stop string must hold 1 to " +
                          std::to_string(max_stop_bytes) + " bytes",
                      "out_of_range");
  }
  r.boolean("stream", g.stream);
  if (const json *v = r.find("stream_options")) {
    if (!v->is_object()) {
      r.error = wrong_type("stream_options", *v, "an object");
    } else {
      field_reader options(*v, "stream_options.");
      options.boolean("include_usage", g.include_usage);
      options.refuse_unknown_fields();
      r.error = options.error;
    }
  }
  // Accepted with the values that change nothing.
  if (const json *v = r.find("n")) {
    if (!v->is_number_integer())
      r.error = wrong_type("n", *v, "an integer");
    else if (*v != 1)
      r.error = bad("n",
                    "'n' must be 1: this server generates one choice per "
                    "request",
                    "unsupported_value");
  }
  r.only("presence_penalty", 0, "only 0 (no penalty)");
  r.only("frequency_penalty", 0, "only 0 (no penalty)");
  r.only("logit_bias", json::object(), "only {} (no bias)");
  std::string user; // an end-user id for abuse monitoring: read, not used
  r.string("user", user);
}

} // namespace

parsed<chat_request> parse_chat_request(std::string_view body) {
  parsed<chat_request> out;
  json j;
  if ((out.error = parse_object(body, j)))
    return out;
  chat_request &c = out.request;
  field_reader r(j);
  read_generation_fields(r, c);
  std::optional<int64_t> max_completion_tokens;
  r.integer("max_completion_tokens", 1, max_tokens_limit,
            max_completion_tokens);
  if (!r.error && max_completion_tokens) {
    if (c.max_tokens && *c.max_tokens != *max_completion_tokens)
      r.error = bad("max_completion_tokens",
                    "'max_tokens' and 'max_completion_tokens' differ; give "
                    "one of them",
                    "invalid_value");
    c.max_tokens = max_completion_tokens;
  }
  r.only("logprobs", false, "only false");
  r.only("top_logprobs", 0, "only 0");

  const json *messages = r.find("messages");
  r.refuse_unknown_fields();
  if (r.error) {
    out.error = r.error;
    return out;
  }
  if (!messages || !messages->is_array() || messages->empty()) {
    out.error =
        messages
            ? wrong_type("messages", *messages, "a non-empty array of messages")
            : bad("messages", "'messages' is required", "missing_field");
    if (messages && messages->is_array())
      out.error->message = "'messages' must not be empty";
    return out;
  }
  // system? (user assistant)* user
  std::string previous_role;
  for (size_t i = 0; i < messages->size(); ++i) {
    const json &m = (*messages)[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) {
      out.error = wrong_type(where, m, "an object");
      return out;
    }
    field_reader f(m, where + ".");
    std::string role, name;
    f.string("role", role);
    f.string("name", name); // a participant's name: read, not used
    std::string content;
    if (const json *v = f.find("content")) {
      if (v->is_string()) {
        content = v->get<std::string>();
      } else if (v->is_array()) {
        // Content parts: text only, joined by newlines.
        for (size_t p = 0; !f.error && p < v->size(); ++p) {
          const json &part = (*v)[p];
          const std::string part_name =
              where + ".content[" + std::to_string(p) + "]";
          if (!part.is_object()) {
            f.error = wrong_type(part_name, part, "an object");
            break;
          }
          field_reader pr(part, part_name + ".");
          std::string type, text;
          pr.string("type", type);
          pr.string("text", text);
          pr.refuse_unknown_fields();
          if (!pr.error && type != "text")
            pr.error = bad(part_name + ".type",
                           "content part type '" + type +
                               "' is not supported: only 'text'",
                           "unsupported_value");
          f.error = pr.error;
          if (p > 0)
            content += '\n';
          content += text;
        }
      } else {
        f.error = wrong_type(f.name("content"), *v,
                             "a string or an array of content parts");
      }
    }
    f.refuse_unknown_fields();
    if (f.error) {
      out.error = f.error;
      return out;
    }
    if (role.empty()) {
      out.error =
          bad(where + ".role", where + ".role is required", "missing_field");
      return out;
    }
    // Expected here: the system message first, then user and assistant in
    // turn, ending with a user message.
    const bool expect_user = previous_role != "user";
    std::string problem;
    if (role == "system" || role == "developer") {
      if (i != 0)
        problem = "a " + role + " message must come first";
      else
        c.system = content;
    } else if (role == "user") {
      if (!expect_user)
        problem = "a user message must follow an assistant message (two "
                  "user messages in a row)";
      else
        c.turns.push_back({content, {}});
    } else if (role == "assistant") {
      if (expect_user)
        problem = "an assistant message must follow a user message";
      else if (content.empty())
        problem = "an assistant message needs its content";
      else
        c.turns.back().assistant = content;
    } else {
      problem = "role '" + role +
                "' is not supported: system, developer, user or assistant";
    }
    if (!problem.empty()) {
      out.error =
          bad(where + ".role", where + ": " + problem, "invalid_messages");
      return out;
    }
    previous_role = role;
  }
  if (c.turns.empty() || !c.turns.back().assistant.empty())
    out.error = bad("messages",
                    "the last message must be a user message (the reply to "
                    "it is generated)",
                    "invalid_messages");
  return out;
}

parsed<completion_request> parse_completion_request(std::string_view body) {
  parsed<completion_request> out;
  json j;
  if ((out.error = parse_object(body, j)))
    return out;
  completion_request &c = out.request;
  c.max_tokens = 16; // OpenAI's default for completions
  field_reader r(j);
  read_generation_fields(r, c);
  r.only("logprobs", nullptr, "only null");
  r.only("echo", false, "only false");
  r.only("best_of", 1, "only 1");
  r.only("suffix", nullptr, "only null");
  const json *prompt = r.find("prompt");
  r.refuse_unknown_fields();
  if (r.error) {
    out.error = r.error;
    return out;
  }
  if (!prompt) {
    out.error = bad("prompt", "'prompt' is required", "missing_field");
    return out;
  }
  if (prompt->is_string())
    c.prompt = prompt->get<std::string>();
  else if (prompt->is_array() && prompt->size() == 1 &&
           (*prompt)[0].is_string())
    c.prompt = (*prompt)[0].get<std::string>();
  else
    out.error = wrong_type("prompt", *prompt,
                           "a string (or an array of one string: one prompt "
                           "per request)");
  return out;
}

bool bearer_token_matches(std::string_view header, std::string_view api_key) {
  constexpr std::string_view scheme = "Bearer ";
  if (header.size() < scheme.size())
    return false;
  bool same_scheme = true;
  for (size_t i = 0; i < scheme.size(); ++i)
    same_scheme =
        same_scheme && std::tolower(static_cast<unsigned char>(header[i])) ==
                           std::tolower(static_cast<unsigned char>(scheme[i]));
  const std::string_view token = header.substr(scheme.size());
  // Every byte of the key is compared whatever the token holds.
  unsigned diff = token.size() == api_key.size() ? 0 : 1;
  for (size_t i = 0; i < api_key.size(); ++i)
    diff |=
        unsigned(static_cast<unsigned char>(api_key[i]) ^
                 static_cast<unsigned char>(i < token.size() ? token[i] : 0));
  return same_scheme && diff == 0 && !api_key.empty();
}

} // namespace smepilot::server
