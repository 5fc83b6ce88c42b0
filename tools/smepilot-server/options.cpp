// smepilot-server: command-line parsing. Every option takes its value as the
// next argument or after '=' (--port=8081); a value that does not parse or
// is out of range is an error naming the option.
#include "options.h"

#include "smepilot_rt/default_model.h"
#include "smepilot_rt/input_file.h"

#include <cerrno>
#include <cstdlib>
#include <functional>
#include <map>

namespace smepilot::server {

using rt::result;
using rt::status;

namespace {

result<int64_t> parse_int(const std::string &text, const std::string &flag,
                          int64_t lo, int64_t hi) {
  errno = 0;
  char *end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE)
    return status::error("invalid value '" + text + "' for " + flag +
                         ": expected an integer");
  if (v < lo || v > hi)
    return status::error("invalid value '" + text + "' for " + flag +
                         ": expected " + std::to_string(lo) + " to " +
                         std::to_string(hi));
  return int64_t(v);
}

} // namespace

std::string usage() {
  options d;
  return "usage: smepilot-server [options]\n"
         "\n"
         "An OpenAI-compatible HTTP server for one GGUF model: "
         "/v1/chat/completions,\n"
         "/v1/completions (streaming with server-sent events), /v1/models, "
         "/health.\n"
         "Requests are queued and served one at a time (docs/server.md).\n"
         "\n"
         "options:\n"
         "  -m, --model FILE         GGUF model "
         "(default: $SMEPILOT_MODEL, else "
         "share/smepilot/models/stories260K.gguf beside bin/)\n"
         "      --host ADDR          address to listen on (default: " +
         d.host +
         "; loopback only)\n"
         "      --port N             port (default: " +
         std::to_string(d.port) +
         "; 0: any free port, printed)\n"
         "      --api-key KEY        ask every /v1 request for "
         "'Authorization: Bearer KEY'\n"
         "      --api-key-file FILE  the same, the key read from FILE's first "
         "line\n"
         "  -c, --ctx-size N         context size in tokens (default: the "
         "model's)\n"
         "  -t, --threads N          threads (default: the CPUs this "
         "process may use)\n"
         "      --engine NAME        reference, jit or aot (default: " +
         d.engine +
         ")\n"
         "      --max-queue N        requests that may wait while one is "
         "generating\n"
         "                           (default: " +
         std::to_string(d.max_queue) +
         "); one more is answered 503 at once\n"
         "      --max-body BYTES     largest request body (default: " +
         std::to_string(d.max_body) +
         "); larger: 413\n"
         "      --debug-token-delay-ms N  sleep N ms after each token (for "
         "tests)\n"
         "  -v, --verbose            one line per request on stderr\n"
         "  -h, --help               this text\n"
         "      --version            the version\n";
}

result<options> parse_args(int argc, char **argv) {
  options o;
  std::string api_key_file;
  bool has_api_key = false;
  using setter = std::function<status(const std::string &)>;
  auto integer = [](auto &field, const char *flag, int64_t lo, int64_t hi) {
    return setter([&field, flag, lo, hi](const std::string &v) {
      auto n = parse_int(v, flag, lo, hi);
      if (!n)
        return n.take_error();
      field = static_cast<std::remove_reference_t<decltype(field)>>(*n);
      return status::ok();
    });
  };
  auto text = [](std::string &field) {
    return setter([&field](const std::string &v) {
      field = v;
      return status::ok();
    });
  };
  const std::map<std::string, setter> with_value = {
      {"-m", text(o.model)},
      {"--model", text(o.model)},
      {"--host", text(o.host)},
      {"--port", integer(o.port, "--port", 0, 65535)},
      {"--api-key",
       [&](const std::string &v) {
         o.api_key = v;
         has_api_key = true;
         return status::ok();
       }},
      {"--api-key-file", text(api_key_file)},
      {"-c", integer(o.n_ctx, "-c", 0, INT32_MAX)},
      {"--ctx-size", integer(o.n_ctx, "--ctx-size", 0, INT32_MAX)},
      {"-t", integer(o.n_threads, "-t", 1, 512)},
      {"--threads", integer(o.n_threads, "--threads", 1, 512)},
      {"--engine", text(o.engine)},
      {"--max-queue", integer(o.max_queue, "--max-queue", 0, 1024)},
      {"--max-body", integer(o.max_body, "--max-body", 1024, int64_t(1) << 30)},
      {"--debug-token-delay-ms",
       integer(o.debug_token_delay_ms, "--debug-token-delay-ms", 0, 60000)},
  };
  const std::map<std::string, bool *> flags = {
      {"-v", &o.verbose},  {"--verbose", &o.verbose}, {"-h", &o.help},
      {"--help", &o.help}, {"--version", &o.version},
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    bool has_value = false;
    if (arg.rfind("--", 0) == 0)
      if (size_t eq = arg.find('='); eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg.resize(eq);
        has_value = true;
      }
    if (auto f = flags.find(arg); f != flags.end()) {
      if (has_value)
        return status::error("option " + arg + " takes no value");
      *f->second = true;
      continue;
    }
    auto s = with_value.find(arg);
    if (s == with_value.end())
      return status::error(arg.rfind("-", 0) == 0
                               ? "unknown option '" + arg + "'"
                               : "unexpected argument '" + arg +
                                     "' (options start with -)");
    if (!has_value) {
      if (i + 1 >= argc)
        return status::error("option " + arg + " needs a value");
      value = argv[++i];
    }
    if (status st = s->second(value); !st)
      return st;
  }
  if (o.help || o.version)
    return o;
  if (has_api_key && !api_key_file.empty())
    return status::error("give --api-key or --api-key-file, not both");
  if (!api_key_file.empty()) {
    auto read = rt::read_input_file(api_key_file);
    if (!read)
      return status::error("--api-key-file: " + read.error().message());
    o.api_key = read->substr(0, read->find_first_of("\r\n"));
    if (o.api_key.empty())
      return status::error("--api-key-file: " + api_key_file +
                           ": the first line is empty");
  }
  if (has_api_key && o.api_key.empty())
    return status::error("--api-key needs a non-empty key");
  if (o.host.empty())
    return status::error("--host needs an address");
  if (o.model.empty()) {
    result<std::string> model = rt::default_model_path();
    if (!model)
      return model.take_error();
    o.model = std::move(*model);
  }
  return o;
}

} // namespace smepilot::server
