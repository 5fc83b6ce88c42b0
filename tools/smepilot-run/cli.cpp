// smepilot-run: command-line parsing. Every option takes its value as the next
// argument or after '=' (--temp=0.7); a value that does not parse, or is out
// of range, is an error naming the option.
#include "cli.h"

#include "smepilot_rt/chat_template.h"
#include "smepilot_rt/default_model.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <limits>
#include <system_error>

namespace smepilot::run {

using rt::result;
using rt::status;

namespace {

result<int64_t> parse_int(const std::string &text, const std::string &flag,
                          int64_t lo, int64_t hi) {
  errno = 0;
  char *end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE)
    return status::error("invalid value '" + text + "' for " + flag +
                         ": expected an integer");
  if (v < lo || v > hi)
    return status::error("invalid value '" + text + "' for " + flag +
                         ": expected " + std::to_string(lo) + " to " +
                         std::to_string(hi));
  return int64_t(v);
}

result<float> parse_float(const std::string &text, const std::string &flag,
                          double lo, double hi) {
  errno = 0;
  char *end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
    return status::error("invalid value '" + text + "' for " + flag +
                         ": expected a number");
  if (v < lo || v > hi) {
    auto num = [](double x) {
      std::string s = std::to_string(x);
      s.erase(s.find_last_not_of('0') + 1);
      if (s.back() == '.')
        s.pop_back();
      return s;
    };
    return status::error("invalid value '" + text + "' for " + flag +
                         ": expected " + num(lo) + " to " + num(hi));
  }
  return float(v);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

std::string process_escapes(const std::string &text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char c = text[i + 1];
    char plain = 0;
    switch (c) {
    case 'n':
      plain = '\n';
      break;
    case 'r':
      plain = '\r';
      break;
    case 't':
      plain = '\t';
      break;
    case 'a':
      plain = '\a';
      break;
    case 'b':
      plain = '\b';
      break;
    case 'f':
      plain = '\f';
      break;
    case 'v':
      plain = '\v';
      break;
    case '0':
      plain = '\0';
      break;
    case '\\':
    case '\'':
    case '"':
    case '?':
      plain = c;
      break;
    case 'x': {
      // One or two hex digits; "\x" without one stays as written.
      int value = -1;
      size_t j = i + 2;
      for (; j < text.size() && j < i + 4 && hex_digit(text[j]) >= 0; ++j)
        value = (value < 0 ? 0 : value * 16) + hex_digit(text[j]);
      if (value < 0) {
        out += text[i];
        continue;
      }
      out += char(value);
      i = j - 1;
      continue;
    }
    default:
      out += text[i]; // not an escape: the backslash stays
      continue;
    }
    out += plain;
    ++i;
  }
  return out;
}

result<std::vector<int32_t>> parse_id_list(const std::string &text,
                                           const char *flag) {
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
  return std::string(
             "usage: smepilot-run [options]\n"
             "\n"
             "Generates text with a GGUF model (llama, qwen3, qwen3moe).\n"
             "\n"
             "model and prompt:\n"
             "  -m,  --model FILE         GGUF model (default: "
             "$SMEPILOT_MODEL, "
             "else\n"
             "                            "
             "../share/smepilot/models/stories260K.gguf\n"
             "                            from this executable's "
             "directory)\n") +
         "  -p,  --prompt TEXT        prompt text\n"
         "  -f,  --file FILE          read the prompt from FILE (one trailing "
         "newline dropped)\n"
         "       --prompt-ids IDS     the prompt as token ids, e.g. "
         "\"1,403,407\"\n"
         "\n"
         "conversation (docs/generation.md, \"Conversation mode\"):\n"
         "  -cnv, --conversation      chat: read turns from stdin, one line "
         "each (a line ending\n"
         "                            in \\ goes on), stream the replies, "
         "keep the KV cache;\n"
         "                            -p/-f is the first turn; EOF or Ctrl-C "
         "at the prompt ends it\n"
         "  -no-cnv, --no-conversation  generate once from the prompt "
         "(default)\n"
         "  -i,   --interactive       -cnv --chat-template plain (raw text "
         "turns)\n"
         "  -sys, --system-prompt TEXT  the conversation's system text\n"
         "       --chat-template NAME llama3, chatml, qwen3 or plain "
         "(default: detected from\n"
         "                            the model's tokenizer.chat_template; "
         "none: plain)\n"
         "       --reasoning on|off   qwen3: think before replying (default: "
         "on); /think and\n"
         "                            /no_think in a turn switch it from that "
         "turn on\n"
         "\n"
         "generation:\n"
         "  -n,  --n-predict N        tokens to generate (default: -1 = until "
         "end of\n"
         "                            generation or a full context)\n"
         "  -c,  --ctx-size N         context size in tokens (default: 0 = the "
         "model's)\n"
         "  -b,  --batch-size N       prompt tokens evaluated together "
         "(default: " +
         std::to_string(d.n_batch) +
         ")\n"
         "  -t,  --threads N          threads (default: the CPUs in the "
         "affinity mask,\n"
         "                            capped by the cgroup's cpu.max quota)\n"
         "       --sme-workers N      jit/aot: how many of the -t threads run "
         "the SME ranges\n"
         "                            (matrix-unit workers; default: 1 if "
         "the model uses SME\n"
         "                            and the CPU has it, else 0)\n"
         "       --kv-type TYPE       KV cache element type, f32 or f16 "
         "(default: f32)\n"
         "       --engine NAME        reference (default), jit, or aot (a "
         "model compiled ahead of\n"
         "                            time and linked into this binary)\n"
         "       --dump-mlir DIR      jit/--emit-object: write the module "
         "after each compiler stage\n"
         "       --no-cache           jit: compile the model even if the "
         "object cache\n"
         "                            ($XDG_CACHE_HOME/smepilot) holds it, "
         "and do not store it\n"
         "       --f32-weights        jit: pass every weight as an F32 copy "
         "made at load instead of\n"
         "                            reading F16/BF16/Q8_0/Q4_0 weights in "
         "place (for comparison;\n"
         "                            implies --f32-activations)\n"
         "       --f32-activations    products by Q8_0/Q4_0/BF16 weights take "
         "F32 activations,\n"
         "                            not activations rounded to Q8_0 blocks "
         "(to bf16) as\n"
         "                            llama.cpp does (for comparison; the jit "
         "then uses no int8\n"
         "                            or bf16 dot products)\n"
         "\n"
         "ahead-of-time compilation (no generation):\n"
         "       --emit-object FILE   compile the model for --target into an "
         "object FILE that,\n"
         "                            linked with the runtime, runs it "
         "(--engine aot)\n"
         "       --target NAME        sme-sve (aarch64 SME with SVE, runs "
         "under qemu) or\n"
         "                            sme2-nosve (SME2 without SVE, as Apple "
         "M4)\n"
         "       --profile NAME       hardware profile choosing the SME ops "
         "(default: apple-m4);\n"
         "                            with --engine jit, instead of the one "
         "chosen for this\n"
         "                            machine (-v says which and why)\n"
         "       --sme-all            every matrix multiplication on SME\n"
         "       --sme-type TYPE      what SME projections compute in: auto "
         "(default: bf16 or\n"
         "                            f16 for BF16/F16 weights, else f32), "
         "f32, bf16, f16\n"
         "       --force-share N      split every SME-capable projection "
         "between the matrix\n"
         "                            unit and the vector cores, N/65536 of "
         "its tiles on SME\n"
         "                            (0..65536; default: the profile's "
         "collab choices)\n"
         "       --pipeline-attention prefill attention per head: QK^T and "
         "PV on SME, softmax\n"
         "                            on the vector cores, overlapped "
         "(default: where the\n"
         "                            profile puts QK^T or PV on SME)\n"
         "       --ignore-eos         keep generating after an "
         "end-of-generation token\n"
         "\n"
         "sampling (applied in this order; --temp 0 = greedy argmax):\n"
         "       --repeat-penalty X   penalize the last --repeat-last-n tokens "
         "(default: " +
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
         "       --logits-out FILE    write the logits of every position of "
         "the prompt\n"
         "                            (+ --teacher-ids) to FILE as .npy "
         "[n_tokens, n_vocab]\n"
         "                            float32 instead of generating "
         "(docs/logits-file.md)\n"
         "       --teacher-ids IDS    continuation fed after the prompt for "
         "--logits-out\n"
         "       --perplexity         perplexity of the -f/-p text in chunks "
         "of -c tokens\n"
         "                            (default chunk: 512), like "
         "llama-perplexity\n"
         "       --trace FILE         jit/aot: write every kernel call "
         "(dispatch, unit, worker,\n"
         "                            tiles, times) to FILE as a Chrome "
         "trace (Perfetto)\n"
         "       --adaptive on|off    jit/aot: re-plan the mode and collab "
         "share of dispatches\n"
         "                            with an SME variant from measured "
         "kernel times (default: on;\n"
         "                            -v prints each re-plan)\n"
         "       --explain[=FORMAT]   jit/aot: print what the compiler "
         "decided per dispatch (mode,\n"
         "                            unit, predicted time, layouts) as "
         "text or json, with the\n"
         "                            time each dispatch took while "
         "evaluating the prompt and -n\n"
         "                            tokens (default 8; no text is "
         "printed); with --target NAME\n"
         "                            (and --profile), for that machine, "
         "compiling only\n"
         "\n"
         "llama.cpp flags:\n"
         "  -r,  --reverse-prompt TEXT  stop once the generated text contains "
         "TEXT (repeatable)\n"
         "  -e,  --escape             turn \\n \\t \\\\ \\\" \\' \\xHH ... in "
         "-p "
         "and -r into their\n"
         "                            characters (default; -f is read as "
         "written)\n"
         "       --no-escape          take -p and -r as written\n"
         "       --verbose-prompt     print the prompt's tokens (id and piece) "
         "before generating\n"
         "       --mlock              keep the model in RAM (mlock; a warning "
         "if RLIMIT_MEMLOCK\n"
         "                            is too low)\n"
         "       --no-mmap            read the model into memory instead of "
         "mapping it\n"
         "       --log-disable        nothing on stderr but errors (no "
         "progress, timing, notes)\n"
         "  accepted with a note, no effect on a CPU: -ngl N, -fa "
         "[on|off|auto], -sm X, -mg N,\n"
         "  -ts X, -dev X, -nkvo, --no-op-offload\n"
         "\n"
         "  -v,  --verbose            print the model, prompt tokens and "
         "settings to stderr\n"
         "       --calibrate          measure this machine (clock, vector "
         "FLOP/s per type, read\n"
         "                            bandwidth, the matrix unit) in a few "
         "seconds on -t threads\n"
         "                            and keep it as the profile jit runs "
         "here use; no model\n"
         "       --version            print the version\n"
         "  -h,  --help               this text\n";
}

namespace {

// The argument being parsed: the option as given, its value if given after
// '=' (--temp=0.7), and the arguments after it, from which take() fetches the
// value otherwise.
class arg_reader {
public:
  arg_reader(int argc, char **argv) : argc_(argc), argv_(argv) {}

  /// Moves to the next argument; false after the last.
  bool next() {
    if (++i_ >= argc_)
      return false;
    arg_ = argv_[i_];
    value_.clear();
    has_inline_value_ = false;
    if (arg_.size() > 2 && arg_[0] == '-' && arg_[1] == '-') {
      size_t eq = arg_.find('=');
      if (eq != std::string::npos) {
        value_ = arg_.substr(eq + 1);
        arg_ = arg_.substr(0, eq);
        has_inline_value_ = true;
      }
    }
    return true;
  }

  const std::string &arg() const { return arg_; }

  bool is(const char *short_name, const char *long_name) const {
    return (short_name && arg_ == short_name) || arg_ == long_name;
  }

  /// Fetches the option's value; an error when there is none.
  status take(std::string &out) {
    if (has_inline_value_) {
      out = value_;
      return status::ok();
    }
    if (i_ + 1 >= argc_)
      return status::error("option " + arg_ + " needs a value");
    out = argv_[++i_];
    return status::ok();
  }

  /// An optional value: the inline one, else the next argument when `accept`
  /// takes it (then it is consumed); "" when there is none.
  std::string
  take_optional(const std::function<bool(const std::string &)> &accept) {
    if (has_inline_value_)
      return value_;
    if (i_ + 1 < argc_ && accept(argv_[i_ + 1]))
      return argv_[++i_];
    return "";
  }

  /// An optional value among `choices`: the inline one or the next argument
  /// when it is one of them, else `absent` (nullptr: no value, out = "").
  /// Anything else inline is an error naming the choices.
  status take_choice(std::initializer_list<const char *> choices,
                     const char *absent, std::string &out) {
    auto is_choice = [&](const std::string &a) {
      for (const char *c : choices)
        if (a == c)
          return true;
      return false;
    };
    out = take_optional(is_choice);
    if (out.empty()) {
      out = absent ? absent : "";
      return status::ok();
    }
    if (is_choice(out))
      return status::ok();
    std::string expected;
    size_t i = 0;
    for (const char *c : choices) {
      expected += i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ";
      expected += c;
      ++i;
    }
    return status::error("invalid value '" + out + "' for " + arg_ +
                         ": expected " + expected);
  }

  /// An option without a value: sets `out`.
  status flag(bool &out) {
    if (has_inline_value_)
      return status::error("option " + arg_ + " takes no value");
    out = true;
    return status::ok();
  }

  template <typename T> status take_int(T &field, int64_t lo, int64_t hi) {
    std::string v;
    SMEPILOT_RT_RETURN_IF_ERROR(take(v));
    result<int64_t> r = parse_int(v, arg_, lo, hi);
    if (!r)
      return r.take_error();
    field = static_cast<T>(*r);
    return status::ok();
  }

  status take_float(float &field, double lo, double hi) {
    std::string v;
    SMEPILOT_RT_RETURN_IF_ERROR(take(v));
    result<float> r = parse_float(v, arg_, lo, hi);
    if (!r)
      return r.take_error();
    field = *r;
    return status::ok();
  }

  /// A token id list (parse_id_list); sets `given`.
  status take_ids(std::vector<int32_t> &ids, bool &given, const char *flag) {
    std::string v;
    SMEPILOT_RT_RETURN_IF_ERROR(take(v));
    result<std::vector<int32_t>> r = parse_id_list(v, flag);
    if (!r)
      return r.take_error();
    ids = *r;
    given = true;
    return status::ok();
  }

private:
  int argc_;
  char **argv_;
  int i_ = 0;
  std::string arg_;
  std::string value_;
  bool has_inline_value_ = false;
};

// Applies the option at `r` to `o`; an error names an unknown option or a
// value that does not parse.
status parse_option(arg_reader &r, options &o) {
  constexpr int64_t kMaxI32 = std::numeric_limits<int32_t>::max();
  // Beyond this a thread count is a typo (main also caps it at 4 per
  // hardware thread).
  constexpr int64_t kMaxThreads = 512;
  // model and prompt
  if (r.is("-h", "--help"))
    return r.flag(o.help);
  if (r.is(nullptr, "--version"))
    return r.flag(o.version);
  if (r.is(nullptr, "--calibrate"))
    return r.flag(o.calibrate);
  if (r.is("-m", "--model"))
    return r.take(o.model);
  if (r.is("-p", "--prompt")) {
    o.has_prompt = true;
    return r.take(o.prompt);
  }
  if (r.is("-f", "--file"))
    return r.take(o.prompt_file);
  if (r.is(nullptr, "--prompt-ids"))
    return r.take_ids(o.prompt_ids, o.has_prompt_ids, "--prompt-ids");
  // generation
  if (r.is("-n", "--n-predict"))
    return r.take_int(o.n_predict, -1, kMaxI32);
  if (r.is("-c", "--ctx-size"))
    return r.take_int(o.n_ctx, 0, kMaxI32);
  if (r.is("-t", "--threads"))
    return r.take_int(o.n_threads, 1, kMaxThreads);
  if (r.is(nullptr, "--sme-workers"))
    return r.take_int(o.sme_workers, 0, kMaxThreads - 1);
  if (r.is(nullptr, "--trace"))
    return r.take(o.trace);
  if (r.is("-b", "--batch-size"))
    return r.take_int(o.n_batch, 1, 1 << 20);
  if (r.is(nullptr, "--kv-type")) {
    std::string v;
    SMEPILOT_RT_RETURN_IF_ERROR(r.take(v));
    auto t = rt::parse_kv_cache_type(v);
    if (!t)
      return status::error("--kv-type: " + t.error().message());
    o.kv_type = *t;
    return status::ok();
  }
  // sampling
  if (r.is(nullptr, "--temp"))
    return r.take_float(o.sampling.temp, -1e9, 1e9);
  if (r.is(nullptr, "--top-k"))
    return r.take_int(o.sampling.top_k, 0, kMaxI32);
  if (r.is(nullptr, "--top-p"))
    return r.take_float(o.sampling.top_p, 0.0, 1.0);
  if (r.is(nullptr, "--min-p"))
    return r.take_float(o.sampling.min_p, 0.0, 1.0);
  if (r.is(nullptr, "--repeat-penalty"))
    return r.take_float(o.sampling.repeat_penalty, 1e-6, 1e9);
  if (r.is(nullptr, "--repeat-last-n"))
    return r.take_int(o.sampling.repeat_last_n, 0, kMaxI32);
  if (r.is("-s", "--seed"))
    return r.take_int(o.seed, -1, std::numeric_limits<uint32_t>::max());
  if (r.is(nullptr, "--ignore-eos"))
    return r.flag(o.ignore_eos);
  // engines and ahead-of-time compilation
  if (r.is(nullptr, "--engine"))
    return r.take(o.engine);
  if (r.is(nullptr, "--dump-mlir"))
    return r.take(o.dump_mlir);
  if (r.is(nullptr, "--no-cache"))
    return r.flag(o.no_cache);
  if (r.is(nullptr, "--f32-weights"))
    return r.flag(o.f32_weights);
  if (r.is(nullptr, "--f32-activations"))
    return r.flag(o.f32_activations);
  if (r.is(nullptr, "--adaptive")) {
    std::string v;
    SMEPILOT_RT_RETURN_IF_ERROR(r.take_choice({"on", "off"}, "on", v));
    o.adaptive = v == "on";
    o.adaptive_given = true;
    return status::ok();
  }
  if (r.is(nullptr, "--explain")) {
    return r.take_choice({"text", "json"}, "text", o.explain);
  }
  if (r.is(nullptr, "--target"))
    return r.take(o.target);
  if (r.is(nullptr, "--emit-object"))
    return r.take(o.emit_object);
  if (r.is(nullptr, "--profile"))
    return r.take(o.profile);
  if (r.is(nullptr, "--sme-all"))
    return r.flag(o.sme_all);
  if (r.is(nullptr, "--force-share"))
    return r.take_int(o.force_share, 0, 65536);
  if (r.is(nullptr, "--pipeline-attention"))
    return r.flag(o.pipeline_attention);
  if (r.is(nullptr, "--sme-type")) {
    SMEPILOT_RT_RETURN_IF_ERROR(r.take(o.sme_type));
    if (o.sme_type != "auto" && o.sme_type != "f32" && o.sme_type != "bf16" &&
        o.sme_type != "f16")
      return status::error("unknown --sme-type '" + o.sme_type +
                           "' (auto, f32, bf16 or f16)");
    return status::ok();
  }
  // llama.cpp flags that mean something on a CPU
  if (r.is("-r", "--reverse-prompt")) {
    std::string v;
    SMEPILOT_RT_RETURN_IF_ERROR(r.take(v));
    if (v.empty())
      return status::error("option " + r.arg() + " needs a non-empty text");
    o.reverse_prompts.push_back(v);
    return status::ok();
  }
  if (r.is("-e", "--escape"))
    return r.flag(o.escape);
  if (r.is(nullptr, "--no-escape")) {
    bool set = false;
    SMEPILOT_RT_RETURN_IF_ERROR(r.flag(set));
    o.escape = false;
    return status::ok();
  }
  if (r.is(nullptr, "--mlock"))
    return r.flag(o.mlock);
  if (r.is(nullptr, "--no-mmap"))
    return r.flag(o.no_mmap);
  if (r.is(nullptr, "--log-disable"))
    return r.flag(o.log_disable);
  if (r.is(nullptr, "--verbose-prompt"))
    return r.flag(o.verbose_prompt);
  // conversation
  if (r.is("-cnv", "--conversation"))
    return r.flag(o.conversation);
  if (r.is("-i", "--interactive")) {
    // llama-cli's -i: turns as raw text, no template.
    o.chat_template = "plain";
    return r.flag(o.conversation);
  }
  if (r.is("-no-cnv", "--no-conversation")) {
    bool set = false;
    SMEPILOT_RT_RETURN_IF_ERROR(r.flag(set));
    o.conversation = false;
    return status::ok();
  }
  if (r.is("-sys", "--system-prompt"))
    return r.take(o.system_prompt);
  if (r.is(nullptr, "--chat-template"))
    return r.take(o.chat_template);
  if (r.is(nullptr, "--reasoning")) {
    std::string v;
    SMEPILOT_RT_RETURN_IF_ERROR(r.take(v));
    if (v != "on" && v != "off")
      return status::error("invalid value '" + v +
                           "' for --reasoning: expected on or off");
    o.reasoning = v == "on";
    return status::ok();
  }
  if (r.is(nullptr, "--reasoning-budget")) {
    // llama.cpp's: -1 unrestricted, 0 no thinking; no other budget here.
    int64_t budget = 0;
    SMEPILOT_RT_RETURN_IF_ERROR(r.take_int(budget, -1, 0));
    o.reasoning = budget != 0;
    return status::ok();
  }
  // llama.cpp's GPU flags: accepted (with their values) so that its command
  // lines run, with a note.
  struct gpu_flag {
    const char *short_name, *long_name, *alias;
    enum { none, value, optional } arity;
  };
  static const gpu_flag gpu_flags[] = {
      {"-ngl", "--n-gpu-layers", "--gpu-layers", gpu_flag::value},
      {"-fa", "--flash-attn", nullptr, gpu_flag::optional},
      {"-sm", "--split-mode", nullptr, gpu_flag::value},
      {"-mg", "--main-gpu", nullptr, gpu_flag::value},
      {"-ts", "--tensor-split", nullptr, gpu_flag::value},
      {"-dev", "--device", nullptr, gpu_flag::value},
      {"-nkvo", "--no-kv-offload", nullptr, gpu_flag::none},
      {nullptr, "--no-op-offload", nullptr, gpu_flag::none},
  };
  for (const gpu_flag &g : gpu_flags) {
    if (!r.is(g.short_name, g.long_name) && !(g.alias && r.arg() == g.alias))
      continue;
    const std::string name = r.arg();
    std::string v;
    if (g.arity == gpu_flag::value) {
      SMEPILOT_RT_RETURN_IF_ERROR(r.take(v));
    } else if (g.arity == gpu_flag::optional) {
      // -fa alone (older llama.cpp) or -fa on|off|auto.
      SMEPILOT_RT_RETURN_IF_ERROR(
          r.take_choice({"on", "off", "auto"}, nullptr, v));
    } else {
      bool set = false;
      SMEPILOT_RT_RETURN_IF_ERROR(r.flag(set));
    }
    o.notes.push_back(name + " has no effect on a CPU");
    return status::ok();
  }
  // inspection
  if (r.is("-v", "--verbose"))
    return r.flag(o.verbose);
  if (r.is(nullptr, "--logits-out"))
    return r.take(o.logits_out);
  if (r.is(nullptr, "--teacher-ids"))
    return r.take_ids(o.teacher_ids, o.has_teacher_ids, "--teacher-ids");
  if (r.is(nullptr, "--perplexity"))
    return r.flag(o.perplexity);
  if (r.arg().size() > 1 && r.arg()[0] == '-')
    return status::error("unknown option '" + r.arg() + "' (see --help)");
  return status::error("unexpected argument '" + r.arg() + "' (see --help)");
}

// The rules between the options of a run that generates text (or scores it):
// exactly one prompt source, and the inspection modes' prerequisites.
status check_generation_options(const options &o) {
  const int n_sources =
      int(o.has_prompt) + int(!o.prompt_file.empty()) + int(o.has_prompt_ids);
  if (n_sources > 1)
    return status::error("give only one of -p, -f and --prompt-ids");
  if (!o.chat_template.empty())
    if (auto t = rt::chat_template_from_name(o.chat_template); !t)
      return status::error("--chat-template: " + t.error().message());
  if (o.conversation) {
    // The turns come from stdin; -p or -f is the first one.
    if (o.has_prompt_ids)
      return status::error("--prompt-ids cannot start a conversation (-cnv): "
                           "give the first turn as text (-p or -f)");
    if (!o.logits_out.empty() || o.perplexity)
      return status::error(
          std::string(o.perplexity ? "--perplexity" : "--logits-out") +
          " cannot be combined with a conversation (-cnv)");
    return status::ok();
  }
  if (n_sources == 0)
    return status::error(
        "no prompt: give -p TEXT, -f FILE or --prompt-ids IDS (or -cnv for "
        "a conversation)");
  if (o.has_teacher_ids && o.logits_out.empty())
    return status::error("--teacher-ids needs --logits-out");
  if (o.perplexity && !o.logits_out.empty())
    return status::error("--perplexity and --logits-out cannot be combined");
  if (o.perplexity && o.has_prompt_ids)
    return status::error(
        "--perplexity needs text (-p or -f), not --prompt-ids");
  return status::ok();
}

} // namespace

result<options> parse_args(int argc, char **argv) {
  options o;
  arg_reader r(argc, argv);
  while (r.next())
    SMEPILOT_RT_RETURN_IF_ERROR(parse_option(r, o));
  if (o.help || o.version)
    return o;
  if (o.calibrate) {
    // Only -t means something to it.
    if (!o.model.empty() || o.has_prompt || o.has_prompt_ids ||
        !o.target.empty() || !o.emit_object.empty() || !o.profile.empty())
      return status::error("--calibrate measures this machine and runs no "
                           "model: give it no model, prompt, --target, "
                           "--emit-object or --profile (only -t)");
    return o;
  }
  if (o.model.empty()) {
    auto model = rt::default_model_path();
    if (!model)
      return model.take_error();
    o.model = std::move(*model);
  }
  if (!o.emit_object.empty() || !o.target.empty()) {
    if (o.emit_object.empty() && o.explain.empty())
      return status::error(
          "--target needs --emit-object FILE (the model is compiled ahead of "
          "time for it) or --explain");
    if (o.target.empty())
      return status::error(
          "--emit-object needs --target NAME (sme-sve or sme2-nosve)");
    if (o.sme_all && o.force_share >= 0)
      return status::error(
          "--sme-all and --force-share contradict each other (every "
          "contraction whole on SME, or split between both units)");
    return o; // no prompt: nothing is generated
  }
  // Flags that choose what an ahead-of-time compilation puts on SME mean
  // nothing to generation: refuse them rather than ignore them.
  for (auto [set, flag] :
       {std::pair{o.sme_all, "--sme-all"},
        std::pair{o.force_share >= 0, "--force-share"},
        std::pair{o.pipeline_attention, "--pipeline-attention"}})
    if (set)
      return status::error(
          std::string(flag) +
          " chooses what --emit-object compiles for SME and needs "
          "--emit-object FILE --target NAME");
  if (!o.profile.empty() && o.engine != "jit")
    return status::error(
        "--profile chooses the Roofline profile of what is compiled: "
        "--engine jit, or --target NAME with --emit-object or --explain (the " +
        o.engine + " engine compiles nothing)");
  if (!o.explain.empty() && o.engine == "reference")
    return status::error(
        "--explain needs a compiled engine: --engine jit (or aot), or "
        "--target NAME to compile for another machine; the reference "
        "engine decides nothing");
  if (!o.explain.empty() &&
      (o.perplexity || o.conversation || !o.logits_out.empty()))
    return status::error(
        "--explain evaluates the prompt and -n tokens itself; it cannot be "
        "combined with --perplexity, -cnv or --logits-out");
  SMEPILOT_RT_RETURN_IF_ERROR(check_generation_options(o));
  if (!o.conversation && (!o.system_prompt.empty() || !o.chat_template.empty()))
    o.notes.push_back(
        std::string(o.system_prompt.empty() ? "--chat-template" : "-sys") +
        " has no effect without -cnv (conversation mode)");
  if (o.escape) {
    o.prompt = process_escapes(o.prompt);
    o.system_prompt = process_escapes(o.system_prompt);
    for (std::string &text : o.reverse_prompts)
      text = process_escapes(text);
  }
  if (o.seed >= 0)
    o.sampling.seed = uint32_t(o.seed);
  return o;
}

} // namespace smepilot::run
