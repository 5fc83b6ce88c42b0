// SMEPilot runtime: the engine interface smepilot-run drives.
//
// An engine owns a model's executable form and its KV cache and evaluates
// tokens: `eval(tokens, pos, ...)` runs the forward pass for `tokens` at
// positions pos, pos+1, ..., attending to every position before them that is
// already in the cache, and writes logits. The reference executor
// (reference_executor.h) is one engine; the JIT engine is another. Tools only
// see this interface, so engines can be compared position by position.
//
// Positions must be filled without holes: `pos` may be anything from 0 to
// n_past() (evaluating at pos < n_past() overwrites the cache from pos on,
// i.e. truncates the sequence there). Long inputs are split into chunks of
// at most `n_batch` tokens internally; the results do not depend on n_batch
// or on the thread count beyond what the engine documents.
#pragma once

#include "smepilot_rt/dispatch_trace.h"
#include "smepilot_rt/kv_cache.h"
#include "smepilot_rt/status.h"

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace smepilot::rt {

struct engine_options {
  int n_threads = 1;
  /// KV cache capacity in positions; 0: the model's training context length.
  int32_t n_ctx = 0;
  /// Tokens evaluated together (prompt chunk size).
  int32_t n_batch = 64;
  kv_cache_type kv_type = kv_cache_type::f32;
  /// Compiled engines: matrix-unit workers among the n_threads (dispatch.h),
  /// 0..n_threads-1; -1: the engine decides (one when some table has an sme
  /// or collab dispatch and the CPU has a matrix unit, else none).
  int sme_workers = -1;
  /// Compiled engines: record every kernel call for write_trace().
  bool trace = false;
  /// Compiled engines: re-plan the mode and collab share of dispatches that
  /// have an SME variant from their measured kernel times (adaptive.h),
  /// between runs; false keeps the compiler's plans.
  bool adaptive = true;
  /// Compiled engines: called with a line describing each re-plan (-v).
  std::function<void(const std::string &)> on_replan;
  /// Compiled engines: the Roofline model's predicted time of one call of
  /// each dispatch as compiled (us; <= 0 unknown), by phase name, which the
  /// re-plan lines report beside the measured time; empty: none.
  std::map<std::string, std::vector<double>> predicted_us;
  /// Products by a Q8_0, Q4_0 or BF16 weight take F32 activations. Off (the
  /// default), they take them rounded as llama.cpp's CPU backend does: to
  /// Q8_0 blocks for Q8_0 and Q4_0 (round_activations_q8_0 in quantize.h),
  /// to bf16 for BF16 (round_activations_bf16): the compiled engines then
  /// use int8 dot products and bf16 pair dot products, and the logits are
  /// llama.cpp's to within its own rounding.
  bool f32_activations = false;
};

/// Which logits eval() writes.
enum class logits_mode {
  none, ///< No logits (only fill the cache).
  last, ///< n_vocab floats: the last token's.
  all,  ///< n_tokens x n_vocab floats, row i for tokens[i].
};

class engine {
public:
  virtual ~engine() = default;

  /// "reference", "jit", ...
  virtual std::string_view name() const = 0;
  virtual int32_t n_vocab() const = 0;
  /// KV cache capacity (positions).
  virtual int32_t n_ctx() const = 0;
  /// Positions currently in the cache.
  virtual int32_t n_past() const = 0;

  /// Evaluates `tokens` at positions [pos, pos + tokens.size()) and writes
  /// logits as `mode` says. Fails, without changing the cache, when pos is
  /// beyond n_past(), when the positions do not fit in the context, or when a
  /// token id is out of range. Fails after evaluating (the positions are in
  /// the cache) when a logit it writes is NaN or infinite
  /// (check_logits_finite): non-finite logits are never returned as a result.
  virtual status eval(std::span<const int32_t> tokens, int32_t pos, logits_mode mode,
                      float *logits) = 0;

  /// Empties the cache (n_past() becomes 0).
  virtual void reset() = 0;

  /// Bytes of KV cache one position takes once written (K and V of every
  /// layer): how a run's memory grows with its length; 0 when unknown.
  virtual uint64_t kv_bytes_per_position() const { return 0; }

  /// What the engine holds in memory, one line for -v (weights, cache,
  /// temporaries); empty when it does not say.
  virtual std::string memory_report() const { return {}; }

  /// How the engine schedules its work, one line per table for -v (the
  /// dispatches by mode and the worker split); empty when it does not say.
  virtual std::vector<std::string> schedule_report() const { return {}; }

  /// Writes the kernel calls recorded since loading (engine_options.trace)
  /// to `path` as Chrome trace-event JSON (dispatch_trace.h), never over one
  /// of `inputs`. An error for an engine that records none.
  virtual status write_trace(const std::string &path, const std::vector<std::string> &inputs) const;

  /// What each phase's dispatches took since loading, from the trace
  /// (engine_options.trace): per phase, how many times it ran and its
  /// dispatches' times (dispatch_trace.h). Empty for an engine that records
  /// none.
  struct phase_profile {
    std::string phase;
    int64_t runs = 0;
    std::vector<dispatch_time> dispatches;
  };
  virtual std::vector<phase_profile> profile() const { return {}; }
};

/// The check every engine's eval() makes on the logits it writes: `n_rows`
/// rows of `n_vocab` floats, row r for position first_pos + r. A NaN or an
/// infinity is an error naming the engine, the first such position and what
/// was found ("the jit engine produced non-finite logits at position 7 (NaN
/// in 512 of 512 logits); ..."): sampling from such a row would emit
/// garbage (the greedy argmax of NaNs is token 0). One pass over the rows.
status check_logits_finite(std::string_view engine_name, const float *logits, int64_t n_rows,
                           int64_t n_vocab, int64_t first_pos);

} // namespace smepilot::rt
