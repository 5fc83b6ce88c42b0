// smepilot-run: command-line parsing. Every option takes its value as the next
// argument or after '=' (--temp=0.7); a value that does not parse, or is out
// of range, is an error naming the option.
#include "cli.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>

#ifndef SMEPILOT_DEFAULT_MODEL
#define SMEPILOT_DEFAULT_MODEL "stories260K.gguf"
#endif

namespace smepilot::run {

using rt::result;
using rt::status;

namespace {

result<int64_t> parse_int(const std::string &text, const std::string &flag, int64_t lo,
                          int64_t hi) {
  errno = 0;
  char *end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE)
    return status::error("invalid value '" + text + "' for " + flag + ": expected an integer");
  if (v < lo || v > hi)
    return status::error("invalid value '" + text + "' for " + flag + ": expected " +
                         std::to_string(lo) + " to " + std::to_string(hi));
  return int64_t(v);
}

result<float> parse_float(const std::string &text, const std::string &flag, double lo,
                          double hi) {
  errno = 0;
  char *end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
    return status::error("invalid value '" + text + "' for " + flag + ": expected a number");
  if (v < lo || v > hi) {
    auto num = [](double x) {
      std::string s = std::to_string(x);
      s.erase(s.find_last_not_of('0') + 1);
      if (s.back() == '.')
        s.pop_back();
      return s;
    };
    return status::error("invalid value '" + text + "' for " + flag + ": expected " + num(lo) +
                         " to " + num(hi));
  }
  return float(v);
}

} // namespace

result<std::vector<int32_t>> parse_id_list(const std::string &text, const char *flag) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ',' || text[i] == ' ') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && text[j] != ',' && text[j] != ' ')
      ++j;
    result<int64_t> v = parse_int(text.substr(i, j - i), flag, 0,
                                  std::numeric_limits<int32_t>::max());
    if (!v)
      return v.take_error();
    ids.push_back(int32_t(*v));
    i = j;
  }
  if (ids.empty())
    return status::error(std::string("no token ids given to ") + flag);
  return ids;
}

std::string usage() {
  options d;
  auto f = [](float x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", double(x));
    return std::string(buf);
  };
  return std::string("usage: smepilot-run [options]\n"
                     "\n"
                     "Generates text with a GGUF model (llama, qwen3, qwen3moe).\n"
                     "\n"
                     "model and prompt:\n"
                     "  -m,  --model FILE         GGUF model (default: ") +
         SMEPILOT_DEFAULT_MODEL +
         ")\n"
         "  -p,  --prompt TEXT        prompt text\n"
         "  -f,  --file FILE          read the prompt from FILE (one trailing newline dropped)\n"
         "       --prompt-ids IDS     the prompt as token ids, e.g. \"1,403,407\"\n"
         "\n"
         "generation:\n"
         "  -n,  --n-predict N        tokens to generate (default: -1 = until end of\n"
         "                            generation or a full context)\n"
         "  -c,  --ctx-size N         context size in tokens (default: 0 = the model's)\n"
         "  -b,  --batch-size N       prompt tokens evaluated together (default: " +
         std::to_string(d.n_batch) +
         ")\n"
         "  -t,  --threads N          threads (default: all hardware threads)\n"
         "       --kv-type TYPE       KV cache element type, f32 or f16 (default: f32)\n"
         "       --engine NAME        reference (default), jit, or aot (a model compiled ahead of\n"
         "                            time and linked into this binary)\n"
         "       --dump-mlir DIR      jit/--emit-object: write the module after each compiler stage\n"
         "\n"
         "ahead-of-time compilation (no generation):\n"
         "       --emit-object FILE   compile the model for --target into an object FILE that,\n"
         "                            linked with the runtime, runs it (--engine aot)\n"
         "       --target NAME        sme-sve (aarch64 SME with SVE, runs under qemu) or\n"
         "                            sme2-nosve (SME2 without SVE, as Apple M4)\n"
         "       --profile NAME       hardware profile choosing the SME ops (default: apple-m4)\n"
         "       --sme-all            every matrix multiplication on SME\n"
         "       --sme-type TYPE      what SME projections compute in: auto (default: bf16 or\n"
         "                            f16 for BF16/F16 weights, else f32), f32, bf16, f16\n"
         "       --ignore-eos         keep generating after an end-of-generation token\n"
         "\n"
         "sampling (applied in this order; --temp 0 = greedy argmax):\n"
         "       --repeat-penalty X   penalize the last --repeat-last-n tokens (default: " +
         f(d.sampling.repeat_penalty) +
         ", 1 = off)\n"
         "       --repeat-last-n N    (default: " +
         std::to_string(d.sampling.repeat_last_n) +
         ")\n"
         "       --top-k N            (default: " +
         std::to_string(d.sampling.top_k) +
         ", 0 = off)\n"
         "       --top-p X            (default: " +
         f(d.sampling.top_p) +
         ", 1 = off)\n"
         "       --min-p X            (default: " +
         f(d.sampling.min_p) +
         ", 0 = off)\n"
         "       --temp X             temperature (default: " +
         f(d.sampling.temp) +
         ")\n"
         "  -s,  --seed N             RNG seed (default: -1 = random)\n"
         "\n"
         "inspection:\n"
         "       --logits-out FILE    write the logits of every position of the prompt\n"
         "                            (+ --teacher-ids) to FILE as .npy [n_tokens, n_vocab]\n"
         "                            float32 instead of generating (docs/logits-file.md)\n"
         "       --teacher-ids IDS    continuation fed after the prompt for --logits-out\n"
         "       --perplexity         perplexity of the -f/-p text in chunks of -c tokens\n"
         "                            (default chunk: 512), like llama-perplexity\n"
         "\n"
         "  -v,  --verbose            print the model, prompt tokens and settings to stderr\n"
         "       --version            print the version\n"
         "  -h,  --help               this text\n";
}

result<options> parse_args(int argc, char **argv) {
  options o;
  o.model = SMEPILOT_DEFAULT_MODEL;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_inline_value = false;
    if (arg.size() > 2 && arg[0] == '-' && arg[1] == '-') {
      size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_inline_value = true;
      }
    }
    auto is = [&](const char *short_name, const char *long_name) {
      return (short_name && arg == short_name) || arg == long_name;
    };
    // Fetches the option's value; an error when there is none.
    auto take = [&](std::string &out) -> status {
      if (has_inline_value) {
        out = value;
        return status::ok();
      }
      if (i + 1 >= argc)
        return status::error("option " + arg + " needs a value");
      out = argv[++i];
      return status::ok();
    };
    auto flag_only = [&]() -> status {
      if (has_inline_value)
        return status::error("option " + arg + " takes no value");
      return status::ok();
    };
    std::string v;
    auto take_int = [&](auto &field, int64_t lo, int64_t hi) -> status {
      SMEPILOT_RT_RETURN_IF_ERROR(take(v));
      result<int64_t> r = parse_int(v, arg, lo, hi);
      if (!r)
        return r.take_error();
      field = static_cast<std::remove_reference_t<decltype(field)>>(*r);
      return status::ok();
    };
    auto take_float = [&](float &field, double lo, double hi) -> status {
      SMEPILOT_RT_RETURN_IF_ERROR(take(v));
      result<float> r = parse_float(v, arg, lo, hi);
      if (!r)
        return r.take_error();
      field = *r;
      return status::ok();
    };
    constexpr int64_t kMaxI32 = std::numeric_limits<int32_t>::max();

    status s;
    if (is("-h", "--help")) {
      s = flag_only();
      o.help = true;
    } else if (is(nullptr, "--version")) {
      s = flag_only();
      o.version = true;
    } else if (is("-m", "--model")) {
      s = take(o.model);
    } else if (is("-p", "--prompt")) {
      s = take(o.prompt);
      o.has_prompt = true;
    } else if (is("-f", "--file")) {
      s = take(o.prompt_file);
    } else if (is(nullptr, "--prompt-ids")) {
      s = take(v);
      if (s) {
        auto ids = parse_id_list(v, "--prompt-ids");
        s = ids ? status::ok() : ids.take_error();
        if (s) {
          o.prompt_ids = *ids;
          o.has_prompt_ids = true;
        }
      }
    } else if (is("-n", "--n-predict")) {
      s = take_int(o.n_predict, -1, kMaxI32);
    } else if (is("-c", "--ctx-size")) {
      s = take_int(o.n_ctx, 0, kMaxI32);
    } else if (is("-t", "--threads")) {
      s = take_int(o.n_threads, 1, 1024);
    } else if (is("-b", "--batch-size")) {
      s = take_int(o.n_batch, 1, 1 << 20);
    } else if (is(nullptr, "--kv-type")) {
      s = take(v);
      if (s) {
        auto t = rt::parse_kv_cache_type(v);
        s = t ? status::ok() : status::error("--kv-type: " + t.error().message());
        if (s)
          o.kv_type = *t;
      }
    } else if (is(nullptr, "--temp")) {
      s = take_float(o.sampling.temp, -1e9, 1e9);
    } else if (is(nullptr, "--top-k")) {
      s = take_int(o.sampling.top_k, 0, kMaxI32);
    } else if (is(nullptr, "--top-p")) {
      s = take_float(o.sampling.top_p, 0.0, 1.0);
    } else if (is(nullptr, "--min-p")) {
      s = take_float(o.sampling.min_p, 0.0, 1.0);
    } else if (is(nullptr, "--repeat-penalty")) {
      s = take_float(o.sampling.repeat_penalty, 1e-6, 1e9);
    } else if (is(nullptr, "--repeat-last-n")) {
      s = take_int(o.sampling.repeat_last_n, 0, kMaxI32);
    } else if (is("-s", "--seed")) {
      s = take_int(o.seed, -1, std::numeric_limits<uint32_t>::max());
    } else if (is(nullptr, "--ignore-eos")) {
      s = flag_only();
      o.ignore_eos = true;
    } else if (is(nullptr, "--engine")) {
      s = take(o.engine);
    } else if (is(nullptr, "--dump-mlir")) {
      s = take(o.dump_mlir);
    } else if (is(nullptr, "--target")) {
      s = take(o.target);
    } else if (is(nullptr, "--emit-object")) {
      s = take(o.emit_object);
    } else if (is(nullptr, "--profile")) {
      s = take(o.profile);
    } else if (is(nullptr, "--sme-all")) {
      s = flag_only();
      o.sme_all = true;
    } else if (is(nullptr, "--sme-type")) {
      s = take(o.sme_type);
      if (s && o.sme_type != "auto" && o.sme_type != "f32" && o.sme_type != "bf16" &&
          o.sme_type != "f16")
        s = status::error("unknown --sme-type '" + o.sme_type + "' (auto, f32, bf16 or f16)");
    } else if (is("-v", "--verbose")) {
      s = flag_only();
      o.verbose = true;
    } else if (is(nullptr, "--logits-out")) {
      s = take(o.logits_out);
    } else if (is(nullptr, "--teacher-ids")) {
      s = take(v);
      if (s) {
        auto ids = parse_id_list(v, "--teacher-ids");
        s = ids ? status::ok() : ids.take_error();
        if (s) {
          o.teacher_ids = *ids;
          o.has_teacher_ids = true;
        }
      }
    } else if (is(nullptr, "--perplexity")) {
      s = flag_only();
      o.perplexity = true;
    } else if (arg.size() > 1 && arg[0] == '-') {
      s = status::error("unknown option '" + arg + "' (see --help)");
    } else {
      s = status::error("unexpected argument '" + arg + "' (see --help)");
    }
    if (!s)
      return s;
  }
  if (o.help || o.version)
    return o;
  if (!o.emit_object.empty() || !o.target.empty()) {
    if (o.emit_object.empty())
      return status::error("--target needs --emit-object FILE (the model is compiled ahead of "
                           "time for it)");
    if (o.target.empty())
      return status::error("--emit-object needs --target NAME (sme-sve or sme2-nosve)");
    return o; // no prompt: nothing is generated
  }

  const int n_sources = int(o.has_prompt) + int(!o.prompt_file.empty()) + int(o.has_prompt_ids);
  if (n_sources > 1)
    return status::error("give only one of -p, -f and --prompt-ids");
  if (n_sources == 0)
    return status::error("no prompt: give -p TEXT, -f FILE or --prompt-ids IDS");
  if (o.has_teacher_ids && o.logits_out.empty())
    return status::error("--teacher-ids needs --logits-out");
  if (o.perplexity && !o.logits_out.empty())
    return status::error("--perplexity and --logits-out cannot be combined");
  if (o.perplexity && o.has_prompt_ids)
    return status::error("--perplexity needs text (-p or -f), not --prompt-ids");
  if (o.seed >= 0)
    o.sampling.seed = uint32_t(o.seed);
  return o;
}

} // namespace smepilot::run
