// smepilot-run: generate text with a GGUF model, llama.cpp style.
//
//   smepilot-run -m model.gguf -p "Once upon a time" -n 64 --temp 0
//
// Modes:
//  - generation (default): the prompt is echoed, then each token's text is
//    written to stdout as soon as it is sampled; a timing block in
//    llama.cpp's style goes to stderr at the end, also after Ctrl-C (which
//    stops at the next token and exits 130, as llama-cli does).
//  - conversation (-cnv): a chat, turns read from stdin and formatted with
//    the model's chat template family (chat_template.h), replies streamed,
//    the KV cache kept across turns so only each new turn is evaluated;
//    Ctrl-C stops a reply, Ctrl-C at the prompt or EOF ends the session.
//  - --logits-out FILE [--teacher-ids IDS]: evaluates prompt + teacher ids and
//    writes every position's logits as .npy (docs/logits-file.md), so engines
//    can be compared position by position.
//  - --perplexity: llama-perplexity's measure over the -f/-p text.
// Every failure prints one line "smepilot-run: error: ..." and exits 1.
// Everything else on stderr (notes, warnings, progress, timing) goes through
// log_info() and is silenced by --log-disable.
#include "cli.h"
#include "engines.h"
#include "npy.h"

#include "smepilot_rt/chat_template.h"
#include "smepilot_rt/cpu_count.h"
#include "smepilot_rt/gguf.h"
#include "smepilot_rt/input_file.h"
#include "smepilot_rt/memory.h"
#include "smepilot_rt/model.h"
#include "smepilot_rt/output_file.h"
#include "smepilot_rt/sampler.h"
#include "smepilot_rt/tokenizer.h"
#include "smepilot_rt/utf8.h"
#include "smepilot_rt/version.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>

#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

using namespace smepilot;
using rt::status;

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

/// When the run started: the timing block's total.
clock_type::time_point run_start;

/// False with --log-disable: stderr then carries errors only.
bool log_enabled = true;

__attribute__((format(printf, 1, 2))) void log_info(const char *format, ...) {
  if (!log_enabled)
    return;
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
}

/// Set by the SIGINT handler while generating: the loop stops at the next
/// token. The handler is one-shot (SA_RESETHAND): a second Ctrl-C kills.
volatile std::sig_atomic_t interrupted = 0;

extern "C" void on_sigint(int) { interrupted = 1; }

void catch_sigint(bool on) {
  struct sigaction sa = {};
  sa.sa_handler = on ? on_sigint : SIG_DFL;
  sa.sa_flags = on ? SA_RESTART | SA_RESETHAND : 0;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
}

/// Conversation mode's handler: a Ctrl-C stops the reply (or, at the prompt,
/// the session), so the handler stays installed; a second one before the
/// first was acted on ends the process at once, as the one-shot handler
/// does in a plain run.
extern "C" void on_sigint_in_conversation(int) {
  if (interrupted) {
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
  }
  interrupted = 1;
}

/// `restart`: interrupted system calls resume (while replying, so stdio
/// writes never fail with EINTR); false at the prompt, so that the read of
/// stdin returns on Ctrl-C.
void catch_sigint_in_conversation(bool restart) {
  struct sigaction sa = {};
  sa.sa_handler = on_sigint_in_conversation;
  sa.sa_flags = restart ? SA_RESTART : 0;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
}

/// Whether the last text written to stdout left a line open (the prompt or
/// a reply cut short by an error): the error then ends that line first, so
/// the shell prompt and the next output start on a line of their own.
bool stdout_line_open = false;

int fail(const std::string &message) {
  if (stdout_line_open) {
    stdout_line_open = false;
    (void)rt::write_stdout("\n"); // the error below is what matters
  }
  std::fflush(stdout);
  std::fprintf(stderr, "smepilot-run: error: %s\n", message.c_str());
  return 1;
}

/// Generated text goes out as it is made. A failed write stops the run: an
/// error (exit 1) for a full disk or a closed terminal, silently killed by
/// SIGPIPE (status 141) when the reader of a pipe has gone.
status write_text(const std::string &text) {
  if (text.empty())
    return status::ok();
  status st = rt::write_stdout(text);
  stdout_line_open = st && text.back() != '\n';
  return st;
}

/// The files a run reads, which no output may replace.
std::vector<std::string> input_files(const run::options &o) {
  return {o.model, o.prompt_file};
}

// The timing block, in llama.cpp's layout: one line per phase, the time,
// the count, and per token both ways.
void print_time(const char *what, double seconds, const std::string &extra) {
  log_info("smepilot-run: %16s = %10.2f ms%s\n", what, seconds * 1e3,
           extra.c_str());
}

void print_rate(const char *what, double seconds, int64_t n, const char *unit) {
  char extra[128];
  std::snprintf(extra, sizeof extra,
                " / %6lld %-6s (%8.2f ms per token, %10.2f tokens per second)",
                (long long)n, unit, n > 0 ? seconds * 1e3 / double(n) : 0.0,
                seconds > 0 ? double(n) / seconds : 0.0);
  print_time(what, seconds, extra);
}

void print_load_time(double seconds, std::string_view engine) {
  print_time("load time", seconds, " (" + std::string(engine) + " engine)");
}

void print_total_time(int64_t n_tokens) {
  char extra[64];
  std::snprintf(extra, sizeof extra, " / %6lld tokens", (long long)n_tokens);
  print_time("total time", seconds_since(run_start), extra);
}

/// Everything a mode needs once the model is up.
struct session {
  run::options opts;
  std::string text; ///< -p or -f (read before the model loads).
  std::unique_ptr<rt::gguf_file> file;
  rt::model_config config;
  std::unique_ptr<rt::tokenizer> tok;
  std::unique_ptr<rt::engine> eng;
  double load_seconds = 0;
  rt::chat_template chat;  ///< Conversation mode's template family.
  std::string explanation; ///< --explain: the compiled model's document.
};

/// Conversation mode's template: --chat-template NAME, else the family of
/// the file's tokenizer.chat_template (none: plain). Known before the engine
/// is built, so that a refused template costs no compilation.
status choose_chat_template(session &s) {
  if (!s.opts.chat_template.empty()) {
    auto t = rt::chat_template_from_name(s.opts.chat_template);
    if (!t)
      return status::error("--chat-template: " + t.error().message());
    s.chat = *t;
    return status::ok();
  }
  std::string_view jinja;
  if (s.file->find("tokenizer.chat_template")) {
    auto text = s.file->get_string("tokenizer.chat_template");
    if (!text)
      return text.take_error();
    jinja = *text;
  }
  auto t = rt::detect_chat_template(jinja);
  if (!t)
    return status::error(s.opts.model + ": " + t.error().message());
  s.chat = *t;
  return status::ok();
}

status load(session &s) {
  auto t0 = clock_type::now();
  rt::gguf_open_options open_options;
  if (s.opts.no_mmap)
    open_options.mode = rt::gguf_load_mode::read;
  // Progress only for a person watching: the reader's for large files it
  // reads, the JIT's compile stages below.
  const bool show_progress = log_enabled && isatty(STDERR_FILENO);
  open_options.progress = show_progress;
  auto file = rt::gguf_file::open(s.opts.model, open_options);
  if (!file)
    return file.take_error();
  s.file = std::move(*file);
  if (s.opts.mlock) {
    // As llama.cpp: a model that cannot be locked still runs.
    const std::span<const uint8_t> bytes = s.file->bytes();
    if (!bytes.empty() && ::mlock(bytes.data(), bytes.size()) != 0) {
      const int err = errno;
      log_info(
          "smepilot-run: warning: --mlock: cannot lock the model's %zu bytes "
          "in memory: %s (raise RLIMIT_MEMLOCK: ulimit -l)\n",
          bytes.size(), std::strerror(err));
    }
  }
  auto config = rt::read_model_config(*s.file);
  if (!config)
    return config.take_error();
  s.config = *config;
  auto tok = rt::tokenizer::from_gguf(*s.file);
  if (!tok)
    return tok.take_error();
  s.tok = std::move(*tok);
  if (s.opts.conversation)
    if (status st = choose_chat_template(s); !st)
      return st;

  rt::engine_options eo;
  const int hardware = int(std::max(1u, std::thread::hardware_concurrency()));
  // Default: the CPUs this process may use (affinity mask, cgroup cpu.max).
  eo.n_threads =
      s.opts.n_threads > 0 ? s.opts.n_threads : rt::default_thread_count();
  // More workers than this only add switching: a sign of a typo.
  if (eo.n_threads > 4 * hardware)
    return status::error("-t " + std::to_string(eo.n_threads) +
                         " is more than 4 threads for each of the " +
                         std::to_string(hardware) +
                         " hardware threads of this machine; lower -t");
  if (s.opts.sme_workers >= eo.n_threads)
    return status::error(
        "--sme-workers " + std::to_string(s.opts.sme_workers) +
        " leaves no vector-core worker of the " + std::to_string(eo.n_threads) +
        " threads (-t); at most " + std::to_string(eo.n_threads - 1));
  eo.sme_workers = s.opts.sme_workers;
  eo.trace = !s.opts.trace.empty() || !s.opts.explain.empty();
  eo.adaptive = s.opts.adaptive;
  if (s.opts.verbose)
    eo.on_replan = [](const std::string &line) {
      log_info("smepilot-run: %s\n", line.c_str());
    };
  eo.n_ctx = s.opts.n_ctx;
  eo.n_batch = s.opts.n_batch;
  eo.kv_type = s.opts.kv_type;
  eo.f32_activations = s.opts.f32_activations || s.opts.f32_weights;
  if (s.opts.perplexity && eo.n_ctx == 0)
    eo.n_ctx = int32_t(std::min<uint32_t>(512, s.config.n_ctx_train));
  // One line, rewritten as each compile stage starts, erased at the end.
  bool progress_shown = false;
  run::compile_stage_callback on_stage;
  if (show_progress)
    on_stage = [&progress_shown](const std::string &stage, int index,
                                 int count) {
      std::fprintf(stderr,
                   "\r\033[Ksmepilot-run: compiling the model: stage %d of %d "
                   "(%s)",
                   index, count, stage.c_str());
      std::fflush(stderr);
      progress_shown = true;
    };
  auto eng = run::create_engine(
      s.opts.engine, *s.file, eo, s.opts.dump_mlir, s.opts.verbose, on_stage,
      !s.opts.no_cache, s.opts.f32_weights,
      s.opts.explain.empty() ? nullptr : &s.explanation, s.opts.profile);
  if (progress_shown)
    std::fprintf(stderr, "\r\033[K");
  if (!eng)
    return eng.take_error();
  s.eng = std::move(*eng);
  s.load_seconds = seconds_since(t0);
  if (s.opts.verbose) {
    log_info("smepilot-run: model %s\n%s", s.opts.model.c_str(),
             rt::describe_model_config(s.config).c_str());
    log_info("smepilot-run: engine %.*s, %d threads, context %d, batch %d, KV "
             "cache %s\n",
             int(s.eng->name().size()), s.eng->name().data(), eo.n_threads,
             s.eng->n_ctx(), eo.n_batch, rt::kv_cache_type_name(eo.kv_type));
    for (const std::string &line : s.eng->schedule_report())
      log_info("smepilot-run: %s\n", line.c_str());
  }
  return status::ok();
}

rt::result<std::string> prompt_text(const run::options &o) {
  if (o.prompt_file.empty())
    return o.prompt;
  // A regular file only: a directory or a FIFO is an error, never an empty
  // prompt or a wait.
  rt::result<std::string> read = rt::read_input_file(o.prompt_file);
  if (!read)
    return status::error("-f: " + read.error().message());
  std::string text = std::move(*read);
  if (!text.empty() && text.back() == '\n')
    text.pop_back();
  return text;
}

rt::result<std::vector<int32_t>> prompt_tokens(const session &s,
                                               bool parse_special) {
  if (s.opts.has_prompt_ids) {
    for (int32_t id : s.opts.prompt_ids)
      if (id >= s.eng->n_vocab())
        return status::error("--prompt-ids: token id " + std::to_string(id) +
                             " is out of range (vocabulary size " +
                             std::to_string(s.eng->n_vocab()) + ")");
    return s.opts.prompt_ids;
  }
  // An empty text is BOS alone when the model starts with one, as in
  // llama.cpp; without BOS there is nothing to start from.
  std::vector<int32_t> ids =
      s.tok->encode(s.text, /*add_special=*/true, parse_special);
  if (ids.empty() && s.text.empty())
    return status::error(
        "the prompt is empty and this model does not start sequences with a "
        "BOS token: there is nothing to generate from");
  if (ids.empty())
    return status::error("the prompt gives no tokens");
  return ids;
}

void print_ids(const char *what, const std::vector<int32_t> &ids) {
  log_info("smepilot-run: %s (%zu):", what, ids.size());
  for (int32_t id : ids)
    log_info(" %d", id);
  log_info("\n");
}

/// Bytes shown on one line: C escapes for control bytes, backslash and
/// quote; UTF-8 passes through.
std::string escaped(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const size_t n = rt::utf8_sequence_length(s, i);
    if (n > 1) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    const auto c = static_cast<unsigned char>(s[i++]);
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\\' || c == '\'')
      out += {'\\', char(c)};
    else if (c < 0x20 || c >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else
      out += char(c);
  }
  return out;
}

/// --verbose-prompt: the prompt and its tokens, as llama-cli prints them.
void print_prompt_tokens(const session &s, const std::vector<int32_t> &ids) {
  if (!s.opts.has_prompt_ids)
    log_info("smepilot-run: prompt: '%s'\n", escaped(s.text).c_str());
  log_info("smepilot-run: number of tokens in prompt = %zu\n", ids.size());
  for (int32_t id : ids)
    log_info("%6d -> '%s'\n", id, escaped(s.tok->token_to_piece(id)).c_str());
}

/// Whether the generated text, now ending with the `added` bytes, holds a
/// reverse prompt that ends inside them.
bool hits_reverse_prompt(const std::vector<std::string> &reverse_prompts,
                         const std::string &generated, size_t added) {
  const size_t before = generated.size() - added;
  for (const std::string &r : reverse_prompts) {
    const size_t from = before >= r.size() ? before - r.size() + 1 : 0;
    if (generated.find(r, from) != std::string::npos)
      return true;
  }
  return false;
}

/// The timing block of a run that generated text (generate, converse).
struct generation_times {
  double prefill_seconds = 0, decode_seconds = 0, sample_seconds = 0;
  int64_t n_prompt = 0, n_decode = 0, n_generated = 0;
};

void print_generation_times(const session &s, const generation_times &t) {
  log_info("\n");
  print_load_time(s.load_seconds, s.eng->name());
  print_rate("prompt eval time", t.prefill_seconds, t.n_prompt, "tokens");
  print_rate("eval time", t.decode_seconds, t.n_decode, "runs");
  print_rate("sampling time", t.sample_seconds, t.n_generated, "tokens");
  print_total_time(t.n_prompt + t.n_decode);
  if (s.opts.verbose)
    if (std::string memory = s.eng->memory_report(); !memory.empty())
      log_info("smepilot-run: memory: %s\n", memory.c_str());
}

int generate(session &s) {
  auto prompt = prompt_tokens(s, /*parse_special=*/true);
  if (!prompt)
    return fail(prompt.error().message());
  const int64_t n_prompt = int64_t(prompt->size());
  const int64_t n_ctx = s.eng->n_ctx();
  if (n_prompt > n_ctx)
    return fail("context overflow: the prompt has " + std::to_string(n_prompt) +
                " tokens but the context holds " + std::to_string(n_ctx) +
                " (raise -c)");
  if (s.opts.n_predict >= 0 && n_prompt + s.opts.n_predict > n_ctx)
    return fail("context overflow: the prompt (" + std::to_string(n_prompt) +
                " tokens) plus -n " + std::to_string(s.opts.n_predict) +
                " needs " + std::to_string(n_prompt + s.opts.n_predict) +
                " positions but the context holds " + std::to_string(n_ctx) +
                " (raise -c or lower -n)");

  // The KV cache is reserved for the whole context but backed as it fills:
  // what this run will fill must fit in memory.
  const bool to_the_end = s.opts.n_predict < 0;
  const int64_t positions =
      to_the_end ? n_ctx : std::min(n_ctx, n_prompt + s.opts.n_predict);
  if (status st = rt::check_memory(
          rt::probe_memory_budget(),
          uint64_t(positions) * s.eng->kv_bytes_per_position(),
          to_the_end
              ? "generating until the context of " + std::to_string(n_ctx) +
                    " positions is full (-n -1): its KV cache"
              : "the KV cache of " + std::to_string(positions) +
                    " positions (the prompt plus -n " +
                    std::to_string(s.opts.n_predict) + ")",
          to_the_end ? "give -n or a smaller context size (-c)" : "lower -n");
      !st)
    return fail(st.message());

  rt::sampler_params sp = s.opts.sampling;
  if (s.opts.seed < 0)
    sp.seed = std::random_device{}();
  if (s.opts.verbose_prompt)
    print_prompt_tokens(s, *prompt);
  if (s.opts.verbose) {
    print_ids("prompt tokens", *prompt);
    log_info(
        "smepilot-run: sampling: repeat_penalty %g (last %d), top_k %d, top_p "
        "%g, min_p %g, temp %g, seed %u\n",
        double(sp.repeat_penalty), sp.repeat_last_n, sp.top_k, double(sp.top_p),
        double(sp.min_p), double(sp.temp), sp.seed);
  }
  rt::sampler smp(sp);
  for (int32_t id : *prompt)
    smp.accept(id);

  // Ctrl-C from here on stops at the next token with the timing printed;
  // installed before the prompt is echoed, so that a caller who waits for
  // output and then interrupts always reaches the handler.
  catch_sigint(true);
  rt::detokenizer detok(*s.tok);
  for (int32_t id : *prompt)
    if (status w = write_text(detok.push(id)); !w)
      return fail(w.message());

  std::vector<float> logits(size_t(s.eng->n_vocab()));
  auto t_prefill = clock_type::now();
  status st = s.eng->eval(*prompt, 0, rt::logits_mode::last, logits.data());
  if (!st)
    return fail(st.message());
  const double prefill_seconds = seconds_since(t_prefill);

  double decode_seconds = 0, sample_seconds = 0;
  int64_t n_decode = 0, n_generated = 0;
  int64_t pos = n_prompt;
  const char *stop_reason = nullptr;
  std::string generated; // for -r
  for (;;) {
    if (s.opts.n_predict >= 0 && n_generated >= s.opts.n_predict)
      break;
    if (interrupted) {
      stop_reason = "interrupted (Ctrl-C)";
      break;
    }
    auto t_sample = clock_type::now();
    const int32_t id = smp.sample(logits);
    smp.accept(id);
    sample_seconds += seconds_since(t_sample);
    if (!s.opts.ignore_eos && s.tok->is_eog(id)) {
      stop_reason = "end of generation";
      break;
    }
    ++n_generated;
    const std::string piece = detok.push(id);
    if (status w = write_text(piece); !w)
      return fail(w.message());
    if (!s.opts.reverse_prompts.empty()) {
      generated += piece;
      if (hits_reverse_prompt(s.opts.reverse_prompts, generated,
                              piece.size())) {
        stop_reason = "reverse prompt";
        break;
      }
    }
    if (s.opts.n_predict >= 0 && n_generated >= s.opts.n_predict)
      break;
    if (pos >= n_ctx) {
      stop_reason = "context full";
      break;
    }
    auto t_decode = clock_type::now();
    st = s.eng->eval({&id, 1}, int32_t(pos), rt::logits_mode::last,
                     logits.data());
    if (!st)
      return fail(st.message());
    decode_seconds += seconds_since(t_decode);
    ++n_decode;
    ++pos;
  }
  catch_sigint(false);
  if (status w = write_text(detok.flush() + "\n"); !w)
    return fail(w.message());

  if (stop_reason && s.opts.verbose)
    log_info("smepilot-run: stopped: %s\n", stop_reason);
  print_generation_times(s, {prefill_seconds, decode_seconds, sample_seconds,
                             n_prompt, n_decode, n_generated});
  // As llama-cli: an interrupted run ends with the status of SIGINT.
  return interrupted ? 130 : 0;
}

/// Reads conversation turns from stdin with poll(2) and read(2), so that a
/// Ctrl-C at the prompt ends the wait (stdio would retry or lose buffered
/// text).
class turn_reader {
public:
  enum class outcome { turn, end_of_input, interrupted };

  /// One turn: a line without its newline (and a '\r' before it); a line
  /// ending in a backslash goes on with the next one, joined by a newline.
  /// The last line may lack its newline.
  outcome read(std::string &turn) {
    turn.clear();
    for (;;) {
      const size_t nl = buffer_.find('\n');
      if (nl == std::string::npos && !eof_) {
        // Waits in short slices: the SIGINT may be delivered to any thread
        // (the engine's workers), so a blocked read is not reliably
        // interrupted.
        if (interrupted)
          return outcome::interrupted;
        pollfd in = {STDIN_FILENO, POLLIN, 0};
        if (::poll(&in, 1, 100) == 0 || (in.revents == 0))
          continue;
        char chunk[4096];
        const ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR && interrupted)
          return outcome::interrupted;
        if (n < 0 && errno == EINTR)
          continue;
        if (n <= 0)
          eof_ = true; // a read error ends the input as EOF does
        else
          buffer_.append(chunk, size_t(n));
        continue;
      }
      if (nl == std::string::npos && buffer_.empty())
        return turn.empty() ? outcome::end_of_input : outcome::turn;
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl == std::string::npos ? std::string::npos : nl + 1);
      if (!line.empty() && line.back() == '\r')
        line.pop_back();
      if (!line.empty() && line.back() == '\\') {
        line.back() = '\n';
        turn += line;
        continue;
      }
      turn += line;
      return outcome::turn;
    }
  }

private:
  std::string buffer_;
  bool eof_ = false;
};

/// Conversation mode (-cnv): turns from -p/-f and then stdin, each written
/// in the template's family and appended to the KV cache (only its own
/// tokens are evaluated), each reply streamed until an end-of-generation
/// token, -n tokens, a reverse prompt or Ctrl-C. A reply's last token, when
/// sampled but not evaluated (-n, -r), is evaluated with the next turn, as
/// is the end-of-turn text of the template (the reply's own end-of-turn
/// token is sampled, never evaluated).
int converse(session &s) {
  const int64_t n_ctx = s.eng->n_ctx();
  if (status st = rt::check_memory(
          rt::probe_memory_budget(),
          uint64_t(n_ctx) * s.eng->kv_bytes_per_position(),
          "a conversation, which can fill the context of " +
              std::to_string(n_ctx) + " positions: its KV cache",
          "give a smaller context size (-c)");
      !st)
    return fail(st.message());
  rt::sampler_params sp = s.opts.sampling;
  if (s.opts.seed < 0)
    sp.seed = std::random_device{}();
  log_info("smepilot-run: conversation with the %.*s chat template; one "
           "line per turn (end a line with \\ to go on), Ctrl-C stops a "
           "reply, EOF or Ctrl-C at the prompt ends\n",
           int(rt::chat_template_name(s.chat).size()),
           rt::chat_template_name(s.chat).data());
  rt::sampler smp(sp);
  std::vector<float> logits(size_t(s.eng->n_vocab()));
  generation_times times;
  turn_reader reader;
  // A terminal shows what is typed; from a pipe the turn is echoed after
  // the prompt marker, so the transcript reads as a dialogue.
  const bool echo_turns = !isatty(STDIN_FILENO);
  bool have_turn = s.opts.has_prompt || !s.opts.prompt_file.empty();
  std::string user = s.text;
  std::vector<int32_t> carry; // printed by the last reply, not evaluated yet
  bool thinking = s.opts.reasoning, ended_by_ctrl_c = false;
  int64_t pos = 0;
  for (int turn = 1;; ++turn) {
    // The prompt: the first turn may come from -p/-f.
    catch_sigint_in_conversation(/*restart=*/false);
    if (status w = write_text("> "); !w)
      return fail(w.message());
    if (!have_turn) {
      const turn_reader::outcome got = reader.read(user);
      if (got != turn_reader::outcome::turn) {
        ended_by_ctrl_c = got == turn_reader::outcome::interrupted;
        if (status w = write_text("\n"); !w)
          return fail(w.message());
        break;
      }
    }
    if (have_turn || echo_turns)
      if (status w = write_text(user + "\n"); !w)
        return fail(w.message());
    have_turn = false;
    catch_sigint_in_conversation(/*restart=*/true);
    if (interrupted) { // Ctrl-C just after the line was read
      ended_by_ctrl_c = true;
      break;
    }
    if (user.empty()) { // nothing to say: ask again
      --turn;
      continue;
    }

    // The turn's tokens: what the last reply left, then the template's text
    // (special tokens recognized) and the user's (taken as text).
    if (s.chat.thinking)
      thinking = rt::chat_thinking_switch(user, thinking);
    const bool first = pos == 0;
    std::vector<int32_t> tokens = carry;
    if (first && s.tok->add_bos_default() && s.tok->bos_id() >= 0)
      tokens.push_back(s.tok->bos_id());
    for (const rt::chat_piece &piece : rt::chat_format_turn(
             s.chat, {first, s.opts.system_prompt, user, thinking})) {
      const std::vector<int32_t> ids =
          s.tok->encode(piece.text, /*add_special=*/false, piece.special);
      tokens.insert(tokens.end(), ids.begin(), ids.end());
    }
    if (pos + int64_t(tokens.size()) >= n_ctx) {
      // One position must stay free for the reply's first token.
      std::fprintf(stderr,
                   "smepilot-run: the context is full: this turn needs %zu "
                   "positions and %lld of the %lld are left; the "
                   "conversation ends (raise -c for a longer one)\n",
                   tokens.size(), (long long)(n_ctx - pos), (long long)n_ctx);
      break;
    }
    if (s.opts.verbose_prompt) {
      log_info("smepilot-run: turn %d: %zu tokens\n", turn, tokens.size());
      for (int32_t id : tokens)
        log_info("%6d -> '%s'\n", id,
                 escaped(s.tok->token_to_piece(id, true)).c_str());
    }
    auto t_prefill = clock_type::now();
    status st =
        s.eng->eval(tokens, int32_t(pos), rt::logits_mode::last, logits.data());
    if (!st)
      return fail(st.message());
    const double turn_seconds = seconds_since(t_prefill);
    times.prefill_seconds += turn_seconds;
    times.n_prompt += int64_t(tokens.size());
    if (s.opts.verbose)
      log_info("smepilot-run: turn %d: prompt eval %zu tokens at positions "
               "%lld to %lld (%.2f ms)\n",
               turn, tokens.size(), (long long)pos,
               (long long)(pos + int64_t(tokens.size()) - 1),
               turn_seconds * 1e3);
    pos += int64_t(tokens.size());
    carry.clear();
    for (int32_t id : tokens)
      smp.accept(id);

    // The reply, streamed.
    rt::detokenizer detok(*s.tok, {.sequence_start = false});
    std::string generated; // for -r
    int64_t n_reply = 0;
    bool context_full = false;
    for (;;) {
      if (interrupted)
        break;
      auto t_sample = clock_type::now();
      const int32_t id = smp.sample(logits);
      smp.accept(id);
      times.sample_seconds += seconds_since(t_sample);
      if (!s.opts.ignore_eos && s.tok->is_eog(id))
        break;
      ++n_reply;
      ++times.n_generated;
      const std::string piece = detok.push(id);
      if (status w = write_text(piece); !w)
        return fail(w.message());
      bool stop = s.opts.n_predict >= 0 && n_reply >= s.opts.n_predict;
      if (!s.opts.reverse_prompts.empty()) {
        generated += piece;
        stop = stop || hits_reverse_prompt(s.opts.reverse_prompts, generated,
                                           piece.size());
      }
      if (stop) {
        carry.push_back(id);
        break;
      }
      if (pos >= n_ctx) {
        context_full = true;
        break;
      }
      auto t_decode = clock_type::now();
      st = s.eng->eval({&id, 1}, int32_t(pos), rt::logits_mode::last,
                       logits.data());
      if (!st)
        return fail(st.message());
      times.decode_seconds += seconds_since(t_decode);
      ++times.n_decode;
      ++pos;
    }
    if (status w = write_text(detok.flush() + "\n"); !w)
      return fail(w.message());
    if (interrupted) {
      // Ctrl-C stopped this reply; the session goes on.
      interrupted = 0;
      log_info("smepilot-run: reply interrupted (Ctrl-C); Ctrl-C at the "
               "prompt ends the conversation\n");
    }
    if (context_full) {
      std::fprintf(stderr,
                   "smepilot-run: the context is full (%lld positions): the "
                   "reply is cut and the conversation ends (raise -c for a "
                   "longer one)\n",
                   (long long)n_ctx);
      break;
    }
  }
  catch_sigint(false);
  print_generation_times(s, times);
  // As llama-cli: a session ended by Ctrl-C ends with the status of SIGINT.
  return ended_by_ctrl_c ? 130 : 0;
}

int logits_out(session &s) {
  auto prompt = prompt_tokens(s, /*parse_special=*/true);
  if (!prompt)
    return fail(prompt.error().message());
  std::vector<int32_t> tokens = *prompt;
  for (int32_t id : s.opts.teacher_ids) {
    if (id >= s.eng->n_vocab())
      return fail("--teacher-ids: token id " + std::to_string(id) +
                  " is out of range (vocabulary size " +
                  std::to_string(s.eng->n_vocab()) + ")");
    tokens.push_back(id);
  }
  if (int64_t(tokens.size()) > s.eng->n_ctx())
    return fail("context overflow: " + std::to_string(tokens.size()) +
                " tokens (prompt + teacher ids) but the context holds " +
                std::to_string(s.eng->n_ctx()) + " (raise -c)");
  if (s.opts.verbose)
    print_ids("tokens", tokens);
  const int64_t n_vocab = s.eng->n_vocab();
  // The logits of every token are kept (and written), the KV cache fills.
  const std::optional<uint64_t> logits_bytes =
      rt::checked_product({tokens.size(), uint64_t(n_vocab), sizeof(float)});
  const uint64_t kv_bytes = tokens.size() * s.eng->kv_bytes_per_position();
  if (status st = rt::check_memory(
          rt::probe_memory_budget(),
          logits_bytes && *logits_bytes <= UINT64_MAX - kv_bytes
              ? *logits_bytes + kv_bytes
              : UINT64_MAX,
          "--logits-out: the logits and KV cache of " +
              std::to_string(tokens.size()) + " tokens",
          "give fewer prompt or teacher tokens");
      !st)
    return fail(st.message());
  std::vector<float> logits(tokens.size() * size_t(n_vocab));
  auto t0 = clock_type::now();
  status st = s.eng->eval(tokens, 0, rt::logits_mode::all, logits.data());
  if (!st)
    return fail(st.message());
  const double eval_seconds = seconds_since(t0);
  st = run::write_npy_f32(s.opts.logits_out, {int64_t(tokens.size()), n_vocab},
                          logits.data(), input_files(s.opts));
  if (!st)
    return fail("--logits-out: " + st.message());
  log_info("smepilot-run: wrote %zu x %lld logits (%zu prompt + %zu teacher "
           "tokens) to %s\n",
           tokens.size(), (long long)n_vocab, prompt->size(),
           s.opts.teacher_ids.size(), s.opts.logits_out.c_str());
  print_load_time(s.load_seconds, s.eng->name());
  print_rate("prompt eval time", eval_seconds, int64_t(tokens.size()),
             "tokens");
  print_total_time(int64_t(tokens.size()));
  return 0;
}

/// llama-perplexity's method: the text's tokens (BOS added as the model
/// wants) are cut into chunks of n_ctx; each chunk is evaluated from an
/// empty cache with its first token replaced by BOS (when the model adds
/// BOS), and the second half of each chunk is scored (every token there has
/// at least n_ctx/2 tokens of context): NLL of token j+1 given 0..j.
int perplexity(session &s) {
  const std::vector<int32_t> tokens = s.tok->encode(s.text, true, false);
  const int64_t n_ctx = s.eng->n_ctx(), n_vocab = s.eng->n_vocab();
  const int64_t n_chunks = int64_t(tokens.size()) / n_ctx;
  if (n_chunks < 1 || n_ctx < 4)
    return fail("the text has " + std::to_string(tokens.size()) +
                " tokens, fewer than one chunk of " + std::to_string(n_ctx) +
                " (lower -c)");
  const bool add_bos = s.tok->add_bos_default() && s.tok->bos_id() >= 0;
  // A piece never spans chunks: -b beyond the chunk changes nothing.
  const int64_t first = n_ctx / 2,
                piece = std::clamp<int64_t>(s.opts.n_batch, 1, n_ctx);
  // Each chunk fills the whole KV cache; the logits of a piece are kept.
  if (status st = rt::check_memory(
          rt::probe_memory_budget(),
          uint64_t(n_ctx) * s.eng->kv_bytes_per_position() +
              rt::checked_product({uint64_t(piece), uint64_t(n_vocab), 4})
                  .value_or(UINT64_MAX / 2),
          "--perplexity over chunks of " + std::to_string(n_ctx) +
              " tokens (-c) in pieces of " + std::to_string(piece) + " (-b)",
          "lower -c or -b");
      !st)
    return fail(st.message());
  log_info("smepilot-run: perplexity over %lld chunks of %lld tokens (%zu "
           "tokens)\n",
           (long long)n_chunks, (long long)n_ctx, tokens.size());
  double nll = 0, nll2 = 0;
  int64_t count = 0;
  std::vector<float> logits(size_t(piece * n_vocab));
  auto t0 = clock_type::now();
  for (int64_t c = 0; c < n_chunks; ++c) {
    std::vector<int32_t> chunk(tokens.begin() + c * n_ctx,
                               tokens.begin() + (c + 1) * n_ctx);
    if (add_bos)
      chunk[0] = s.tok->bos_id();
    s.eng->reset();
    for (int64_t off = 0; off < n_ctx; off += piece) {
      const int64_t len = std::min(piece, n_ctx - off);
      const bool scored = off + len > first;
      status st = s.eng->eval(
          std::span<const int32_t>(chunk).subspan(size_t(off), size_t(len)),
          int32_t(off), scored ? rt::logits_mode::all : rt::logits_mode::none,
          logits.data());
      if (!st)
        return fail(st.message());
      if (!scored)
        continue;
      for (int64_t j = std::max(off, first); j < off + len && j + 1 < n_ctx;
           ++j) {
        const float *row = &logits[size_t((j - off) * n_vocab)];
        float max = row[0];
        for (int64_t v = 1; v < n_vocab; ++v)
          max = std::max(max, row[v]);
        double sum = 0;
        for (int64_t v = 0; v < n_vocab; ++v)
          sum += std::exp(double(row[v]) - max);
        const int32_t next = tokens[size_t(c * n_ctx + j + 1)];
        const double token_nll = std::log(sum) + max - double(row[next]);
        nll += token_nll;
        nll2 += token_nll * token_nll;
        ++count;
      }
    }
    std::printf("[%lld]%.4f,", (long long)(c + 1),
                std::exp(nll / double(count)));
    if (status w = rt::flush_stdout(); !w)
      return fail(w.message());
  }
  const double mean = nll / double(count), mean2 = nll2 / double(count);
  const double ppl = std::exp(mean);
  const double err = count > 1
                         ? ppl * std::sqrt(std::max(0.0, mean2 - mean * mean) /
                                           double(count - 1))
                         : 0;
  std::printf("\nPPL = %.4f +/- %.5f (%lld scored tokens)\n", ppl, err,
              (long long)count);
  print_load_time(s.load_seconds, s.eng->name());
  print_rate("prompt eval time", seconds_since(t0), n_chunks * n_ctx, "tokens");
  print_total_time(n_chunks * n_ctx);
  return 0;
}

/// --emit-object: compile the model ahead of time and stop.
int emit_object(const run::options &o) {
  auto file = rt::gguf_file::open(o.model);
  if (!file)
    return fail(file.error().message());
  rt::engine_options eo;
  eo.n_ctx = o.n_ctx;
  eo.n_batch = o.n_batch;
  run::emit_object_options aot;
  aot.target = o.target;
  aot.object_path = o.emit_object;
  aot.profile = o.profile.empty() ? "apple-m4" : o.profile;
  aot.sme_all = o.sme_all;
  aot.sme_type = o.sme_type;
  aot.force_share = o.force_share;
  aot.pipeline_attention = o.pipeline_attention;
  aot.dump_mlir_dir = o.dump_mlir;
  aot.verbose = o.verbose;
  std::string explanation;
  if (!o.explain.empty())
    aot.explain = &explanation;
  status st = run::emit_object(**file, eo, aot);
  if (!st)
    return fail(st.message());
  if (!o.emit_object.empty())
    log_info("smepilot-run: wrote %s (%s)\n", o.emit_object.c_str(),
             o.target.c_str());
  if (!o.explain.empty()) {
    auto rendered = run::render_explain(explanation, o.explain, {});
    if (!rendered)
      return fail(o.model + ": --explain: " + rendered.error().message());
    if (st = write_text(*rendered); !st)
      return fail(st.message());
  }
  return 0;
}

/// --explain: evaluate the prompt and -n tokens (greedy, printing nothing)
/// with the executor's trace on, then print the compiled model's decisions
/// with the time each dispatch took.
int explain(session &s) {
  auto prompt = prompt_tokens(s, /*parse_special=*/true);
  if (!prompt)
    return fail(prompt.error().message());
  const int64_t n_ctx = s.eng->n_ctx();
  const int64_t n_predict = s.opts.n_predict >= 0 ? s.opts.n_predict : 8;
  if (int64_t(prompt->size()) + n_predict > n_ctx)
    return fail("the prompt (" + std::to_string(prompt->size()) +
                " tokens) plus " + std::to_string(n_predict) +
                " generated tokens do not fit in the context (" +
                std::to_string(n_ctx) + " positions, -c)");
  std::vector<float> logits(size_t(s.eng->n_vocab()));
  if (status st = s.eng->eval(*prompt, 0, rt::logits_mode::last, logits.data());
      !st)
    return fail(st.message());
  int32_t pos = int32_t(prompt->size());
  for (int64_t i = 0; i < n_predict; ++i, ++pos) {
    const int32_t next = int32_t(
        std::max_element(logits.begin(), logits.end()) - logits.begin());
    if (status st = s.eng->eval(std::span<const int32_t>(&next, 1), pos,
                                rt::logits_mode::last, logits.data());
        !st)
      return fail(st.message());
  }
  auto rendered =
      run::render_explain(s.explanation, s.opts.explain, s.eng->profile());
  if (!rendered)
    return fail(s.opts.model + ": --explain: " + rendered.error().message());
  if (status st = write_text(*rendered); !st)
    return fail(st.message());
  return 0;
}

int run_main(int argc, char **argv) {
  run_start = clock_type::now();
  auto parsed = run::parse_args(argc, argv);
  if (!parsed)
    return fail(parsed.error().message());
  session s;
  status st;
  s.opts = std::move(*parsed);
  log_enabled = !s.opts.log_disable;
  for (const std::string &note : s.opts.notes)
    log_info("smepilot-run: note: %s\n", note.c_str());
  if (s.opts.help) {
    std::fputs(run::usage().c_str(), stdout);
    return 0;
  }
  if (s.opts.version) {
    std::printf("smepilot-run %s\n", rt::version_string());
    return 0;
  }
  if (s.opts.calibrate) {
    const int threads =
        s.opts.n_threads > 0 ? s.opts.n_threads : rt::default_thread_count();
    if (status cal = run::calibrate_machine(threads); !cal)
      return fail(cal.message());
    return 0;
  }
  if (!s.opts.emit_object.empty() || !s.opts.target.empty())
    return emit_object(s.opts);
  st = run::check_engine(s.opts.engine);
  if (!st)
    return fail(st.message());
  if (!s.opts.has_prompt_ids) {
    auto text = prompt_text(s.opts);
    if (!text)
      return fail(text.error().message());
    // An empty prompt is BOS alone (prompt_tokens); there is nothing to
    // score in an empty text.
    if (text->empty() && s.opts.perplexity)
      return fail("the text is empty");
    s.text = std::move(*text);
  }
  // Refuse a bad output path (an input, a directory, a device) before the
  // model loads and runs; the write checks again.
  if (!s.opts.logits_out.empty())
    if (st = rt::check_output_path(s.opts.logits_out, input_files(s.opts)); !st)
      return fail("--logits-out: " + st.message());
  if (s.opts.adaptive_given && s.opts.engine == "reference")
    return fail("--adaptive needs a compiled engine (--engine jit or aot)");
  if (!s.opts.trace.empty()) {
    if (s.opts.engine == "reference")
      return fail("--trace needs a compiled engine (--engine jit or aot)");
    if (st = rt::check_output_path(s.opts.trace, input_files(s.opts)); !st)
      return fail("--trace: " + st.message());
  }
  st = load(s);
  if (!st)
    return fail(st.message());
  const int rc = !s.opts.explain.empty()      ? explain(s)
                 : !s.opts.logits_out.empty() ? logits_out(s)
                 : s.opts.perplexity          ? perplexity(s)
                 : s.opts.conversation        ? converse(s)
                                              : generate(s);
  // The trace of whatever ran, also after a failed run.
  if (!s.opts.trace.empty()) {
    if (st = s.eng->write_trace(s.opts.trace, input_files(s.opts)); !st)
      return fail("--trace: " + st.message());
    log_info("smepilot-run: wrote the trace to %s\n", s.opts.trace.c_str());
  }
  return rc;
}

} // namespace

int main(int argc, char **argv) {
  const int rc = run_main(argc, argv);
  // What is still buffered (--help, --version, the perplexity summary) must
  // arrive too: a failed stdout is an error, never exit 0.
  if (status st = rt::flush_stdout(); !st)
    return rc != 0 ? rc : fail(st.message());
  return rc;
}
