// smepilot-bench: command-line parsing. Every list flag takes
// comma-separated values and may be repeated; the values add up (the
// first use replaces the default).
#include "args.h"

#include <cerrno>
#include <cstdlib>
#include <set>

namespace smepilot::bench {

using rt::status;

namespace {

rt::result<int64_t> parse_int(const std::string &text, const std::string &flag,
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

/// "a,b,c" -> {"a", "b", "c"}; an empty item is an error.
rt::result<std::vector<std::string>> split_list(const std::string &text,
                                                const std::string &flag) {
  std::vector<std::string> items;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    std::string item = text.substr(
        start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty())
      return status::error("invalid value '" + text + "' for " + flag +
                           ": an empty item in the list");
    items.push_back(std::move(item));
    if (comma == std::string::npos)
      return items;
    start = comma + 1;
  }
}

template <typename T>
status append_ints(const std::string &text, const std::string &flag, int64_t lo,
                   int64_t hi, std::vector<T> &out) {
  auto items = split_list(text, flag);
  if (!items)
    return items.take_error();
  for (const std::string &item : *items) {
    auto v = parse_int(item, flag, lo, hi);
    if (!v)
      return v.take_error();
    out.push_back(T(*v));
  }
  return status::ok();
}

/// Token counts are bounded so that P + N of any test fits in int32.
constexpr int64_t max_tokens = 1 << 24;

} // namespace

std::string usage() {
  return R"(usage: smepilot-bench [options]

Measures prompt processing (pp) and text generation (tg) speed, as
llama-bench does: every combination of the models, engines, thread counts
and batch sizes given runs every test -r times; a table of tokens/s
(mean +/- standard deviation over the repetitions) goes to stdout.

options:
  -h, --help
  --version
  -m, --model FILE[,FILE...]    GGUF model (repeatable; default: $SMEPILOT_MODEL,
                                else share/smepilot/models/stories260K.gguf beside bin/)
  -p, --n-prompt N[,N...]       pp tests: N tokens from an empty cache, the
                                last token's logits (default: 512; 0: none)
  -n, --n-gen N[,N...]          tg tests: N single-token evals from an empty
                                cache (default: 128; 0: none)
  -pg P,N                       pp+tg test: P prompt tokens, then N
                                single-token evals (repeatable)
  -r, --repetitions N           runs of each test (default: 5)
  -t, --threads N[,N...]        threads (default: the CPUs in the affinity mask,
                                capped by the cgroup's cpu.max quota)
  --engine NAME[,NAME...]       reference, jit, aot (default: reference)
  -b, --batch-size N[,N...]     tokens per eval chunk of a pp test (default: 64)
  -c, --ctx-size N              KV cache positions (default: what the
                                largest test needs)
  --adaptive on|off             run-time adaptation of the compiled engines
                                (default: on, as smepilot-run; its placement
                                probes run some dispatches on one thread for a
                                few runs: off to time the compiled schedule)
  -o, --output md|csv|json      output format (default: md)
  --warmup, --no-warmup         an untimed run of each test first (default:
                                on; a tg warmup evaluates one token)
  --progress                    progress lines on stderr
  -v, --verbose                 --progress and the engines' own details

Token ids are random (a fixed seed), BOS first when the model adds BOS. The
JSON and CSV outputs hold every run's time in nanoseconds, the machine and
the build.
)";
}

rt::result<options> parse_args(int argc, char **argv) {
  options o;
  std::set<std::string> seen; // list flags given once already
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_inline_value = false;
    if (arg.rfind("--", 0) == 0) {
      if (size_t eq = arg.find('='); eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_inline_value = true;
      }
    }
    auto take_value = [&]() -> rt::result<std::string> {
      if (has_inline_value)
        return value;
      if (i + 1 >= argc)
        return status::error("option " + arg + " needs a value");
      return std::string(argv[++i]);
    };
    // The first use of a list flag replaces its default.
    auto first_use = [&](const char *key) { return seen.insert(key).second; };
    auto no_value = [&]() -> status {
      if (has_inline_value)
        return status::error("option " + arg + " takes no value");
      return status::ok();
    };

    if (arg == "-h" || arg == "--help" || arg == "--version" ||
        arg == "--warmup" || arg == "--no-warmup" || arg == "--progress" ||
        arg == "-v" || arg == "--verbose") {
      SMEPILOT_RT_RETURN_IF_ERROR(no_value());
      if (arg == "-h" || arg == "--help")
        o.help = true;
      else if (arg == "--version")
        o.version = true;
      else if (arg == "--warmup")
        o.warmup = true;
      else if (arg == "--no-warmup")
        o.warmup = false;
      else if (arg == "--progress")
        o.progress = true;
      else
        o.verbose = o.progress = true;
      continue;
    }

    auto v = take_value();
    const bool known = arg == "-m" || arg == "--model" || arg == "-p" ||
                       arg == "--n-prompt" || arg == "-n" || arg == "--n-gen" ||
                       arg == "-pg" || arg == "-r" || arg == "--repetitions" ||
                       arg == "-t" || arg == "--threads" || arg == "--engine" ||
                       arg == "-b" || arg == "--batch-size" || arg == "-c" ||
                       arg == "--ctx-size" || arg == "-o" ||
                       arg == "--output" || arg == "--adaptive";
    if (!known)
      return status::error("unknown option '" + arg + "' (see --help)");
    if (!v)
      return v.take_error();
    const std::string &text = *v;

    if (arg == "-m" || arg == "--model") {
      if (first_use("m"))
        o.models.clear();
      auto items = split_list(text, arg);
      if (!items)
        return items.take_error();
      o.models.insert(o.models.end(), items->begin(), items->end());
    } else if (arg == "-p" || arg == "--n-prompt") {
      if (first_use("p"))
        o.n_prompt.clear();
      SMEPILOT_RT_RETURN_IF_ERROR(
          append_ints(text, arg, 0, max_tokens, o.n_prompt));
    } else if (arg == "-n" || arg == "--n-gen") {
      if (first_use("n"))
        o.n_gen.clear();
      SMEPILOT_RT_RETURN_IF_ERROR(
          append_ints(text, arg, 0, max_tokens, o.n_gen));
    } else if (arg == "-pg") {
      std::vector<int32_t> pair;
      SMEPILOT_RT_RETURN_IF_ERROR(append_ints(text, arg, 1, max_tokens, pair));
      if (pair.size() != 2)
        return status::error("invalid value '" + text +
                             "' for -pg: expected P,N (two token counts)");
      o.pg.push_back({pair[0], pair[1]});
    } else if (arg == "-r" || arg == "--repetitions") {
      auto r = parse_int(text, arg, 1, 1000000);
      if (!r)
        return r.take_error();
      o.repetitions = int(*r);
    } else if (arg == "-t" || arg == "--threads") {
      if (first_use("t"))
        o.threads.clear();
      SMEPILOT_RT_RETURN_IF_ERROR(append_ints(text, arg, 1, 512, o.threads));
    } else if (arg == "--engine") {
      if (first_use("engine"))
        o.engines.clear();
      auto items = split_list(text, arg);
      if (!items)
        return items.take_error();
      o.engines.insert(o.engines.end(), items->begin(), items->end());
    } else if (arg == "-b" || arg == "--batch-size") {
      if (first_use("b"))
        o.n_batch.clear();
      SMEPILOT_RT_RETURN_IF_ERROR(append_ints(text, arg, 1, 65536, o.n_batch));
    } else if (arg == "-c" || arg == "--ctx-size") {
      auto c = parse_int(text, arg, 1, max_tokens * 2);
      if (!c)
        return c.take_error();
      o.n_ctx = int32_t(*c);
    } else if (arg == "--adaptive") {
      if (text != "on" && text != "off")
        return status::error("--adaptive: expected on or off, got '" + text +
                             "'");
      o.adaptive = text == "on";
    } else { // -o, --output
      if (text == "md")
        o.format = output_format::md;
      else if (text == "csv")
        o.format = output_format::csv;
      else if (text == "json")
        o.format = output_format::json;
      else
        return status::error("unknown output format '" + text +
                             "' (expected md, csv or json)");
    }
  }
  return o;
}

} // namespace smepilot::bench
