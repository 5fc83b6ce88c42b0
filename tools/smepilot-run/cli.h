// smepilot-run: command-line options (llama.cpp's flag names where they exist).
#pragma once

#include "smepilot_rt/kv_cache.h"
#include "smepilot_rt/sampler.h"
#include "smepilot_rt/status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace smepilot::run {

struct options {
  std::string model; ///< Default: rt::default_model_path().
  std::string prompt;
  bool has_prompt = false;
  std::string prompt_file;
  std::vector<int32_t> prompt_ids; ///< --prompt-ids
  bool has_prompt_ids = false;
  int32_t n_predict = -1; ///< -1: until end of generation or a full context.
  int32_t n_ctx = 0;      ///< 0: the model's training context.
  int n_threads = 0;      ///< 0: rt::default_thread_count() (cpu_count.h).
  /// --sme-workers N: matrix-unit workers of a compiled engine (0..-t minus
  /// 1); -1: the engine decides.
  int sme_workers = -1;
  /// --trace FILE: a Chrome trace of every kernel call (compiled engines).
  std::string trace;
  /// --adaptive on|off: re-plan SME/collab dispatches from measured times
  /// (compiled engines; runtime/include/smepilot_rt/adaptive.h).
  bool adaptive = true;
  bool adaptive_given = false;
  int32_t n_batch = 64;
  rt::kv_cache_type kv_type = rt::kv_cache_type::f32;
  rt::sampler_params sampling;
  int64_t seed = -1; ///< -1: random.
  bool ignore_eos = false;
  std::string engine = "reference";
  std::string dump_mlir; ///< --dump-mlir DIR (jit engine): IR after each stage.
  /// --no-cache (jit engine): compile, neither reading nor writing the
  /// object cache.
  bool no_cache = false;
  /// --f32-weights (jit engine): weights as F32 copies, not in their own
  /// GGUF type (for comparison: slower, 2-8x the memory).
  bool f32_weights = false;
  /// --f32-activations: products by Q8_0/Q4_0/BF16 weights take F32 activations
  /// (rt::engine_options::f32_activations); implied by --f32-weights.
  bool f32_activations = false;
  /// --explain[=text|json]: print the compiled model's decisions ("": off).
  std::string explain;
  /// --target NAME: what --emit-object compiles for (sme-sve, sme2-nosve).
  std::string target;
  /// --emit-object FILE: compile the model for --target ahead of time, write
  /// the object, generate nothing.
  std::string emit_object;
  /// --profile NAME: the hardware profile whose Roofline choices decide which
  /// ops run on SME: for --emit-object / --target (default apple-m4), and for
  /// the jit engine ("" = the one chosen for this machine); --sme-all: every
  /// contraction on SME.
  std::string profile;
  /// --calibrate: measure this machine and keep its profile, run nothing.
  bool calibrate = false;
  bool sme_all = false;
  /// --sme-type TYPE: what an SME projection computes in: auto (the type of
  /// the model's BF16/F16 projection weights, else f32), f32, bf16 or f16.
  std::string sme_type = "auto";
  /// --force-share N: every SME-capable projection split between both units
  /// with N/65536 of its tiles on SME (-1: the profile's collab choices).
  int64_t force_share = -1;
  /// --pipeline-attention: prefill attention pipelined per head whatever the
  /// profile says.
  bool pipeline_attention = false;
  bool verbose = false;
  /// -r/--reverse-prompt TEXT (repeatable): generation stops as soon as the
  /// generated text contains one of these.
  std::vector<std::string> reverse_prompts;
  /// -e/--escape (the default, as in llama.cpp) or --no-escape: whether
  /// backslash escapes in -p and -r are turned into their characters.
  bool escape = true;
  bool mlock = false;          ///< --mlock: lock the model's bytes in memory.
  bool no_mmap = false;        ///< --no-mmap: read the model, never map it.
  bool log_disable = false;    ///< --log-disable: only errors on stderr.
  bool verbose_prompt = false; ///< --verbose-prompt: print the prompt tokens.
  /// -cnv/--conversation (or -i/--interactive, which also means --chat-template
  /// plain): a chat, turns read from stdin, -p the first user turn.
  /// -no-cnv turns it off (the default).
  bool conversation = false;
  /// -sys/--system-prompt TEXT: the conversation's system text.
  std::string system_prompt;
  /// --chat-template NAME (llama3, chatml, qwen3, plain); empty: detected
  /// from the model's tokenizer.chat_template.
  std::string chat_template;
  /// --reasoning on|off (or --reasoning-budget -1|0): whether a model that
  /// thinks (Qwen3) starts each reply thinking; /think and /no_think in a
  /// turn switch it from that turn on.
  bool reasoning = true;
  /// One line each about accepted flags that change nothing here (-ngl,
  /// -no-cnv, ...); printed unless --log-disable.
  std::vector<std::string> notes;
  // Inspection modes.
  std::string logits_out;
  std::vector<int32_t> teacher_ids;
  bool has_teacher_ids = false;
  bool perplexity = false;
  // Informational exits.
  bool help = false;
  bool version = false;
};

/// Parses argv. Errors are one sentence ("unknown option '--foo'").
rt::result<options> parse_args(int argc, char **argv);

/// The --help text, with defaults.
std::string usage();

/// Turns the backslash escapes of `text` into their characters: \n \r \t
/// \a \b \f \v \0 \\ \' \" \? and \xHH (one or two hex digits). Any
/// other backslash, and a trailing one, is kept as written.
std::string process_escapes(const std::string &text);

/// Parses "1,403, 407" (commas and/or spaces) into ids.
rt::result<std::vector<int32_t>> parse_id_list(const std::string &text,
                                               const char *flag);

} // namespace smepilot::run
