// SMEPilot runtime: token sampling, as a chain of small steps (llama.cpp style).
//
// The default chain, applied to the raw logits of one position:
//
//   repetition penalty (last `repeat_last_n` accepted tokens)
//   -> top-k -> top-p -> min-p -> temperature -> draw from the softmax
//
// and, when `temp <= 0`, repetition penalty -> greedy argmax (ties go to the
// lowest token id). Each step is a free function on a candidate list so it can
// be tested (and recombined) on its own.
//
// Randomness: std::mt19937 (32-bit Mersenne Twister, fully specified by the
// C++ standard, so a seed gives the same tokens on every platform) seeded with
// `seed`. A draw takes two outputs a, b and forms the 53-bit uniform
// u = ((a >> 5) * 2^26 + (b >> 6)) / 2^53 in [0, 1) (MT19937's genrand_res53);
// the sampled token is the first candidate, in order of descending
// probability, whose cumulative probability exceeds u.
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <span>
#include <vector>

namespace smepilot::rt {

struct token_candidate {
  int32_t id;
  float logit;
  float p; ///< Probability; valid after softmax_candidates().
};

/// Candidates of one sampling step. `sorted` means: by descending logit, ties
/// by ascending id (the order every step that sorts establishes).
struct candidate_list {
  std::vector<token_candidate> items;
  bool sorted = false;

  /// All ids 0..n-1 with their logits, unsorted, p = 0.
  static candidate_list from_logits(std::span<const float> logits);
};

/// Sorts by descending logit (ties: lower id first) unless already sorted.
void sort_candidates(candidate_list &c);
/// Sorts and sets p = exp(logit - max) / sum (sum in double, fixed order).
void softmax_candidates(candidate_list &c);

/// Divides positive logits by `penalty` and multiplies non-positive ones by
/// it, once per distinct token in `recent`. penalty == 1 is a no-op.
void apply_repetition_penalty(candidate_list &c, std::span<const int32_t> recent, float penalty);
/// Keeps the k most likely (k <= 0 or k >= size: no-op). Leaves c sorted.
void apply_top_k(candidate_list &c, int32_t k);
/// Keeps the smallest prefix (by probability) whose mass reaches p, at least
/// `min_keep` (p >= 1: no-op). Probabilities are of the current logits.
void apply_top_p(candidate_list &c, float p, size_t min_keep = 1);
/// Keeps candidates whose probability is at least p times the largest one,
/// at least `min_keep` (p <= 0: no-op).
void apply_min_p(candidate_list &c, float p, size_t min_keep = 1);
/// Divides the logits by t (t > 0).
void apply_temperature(candidate_list &c, float t);
/// The candidate with the largest logit; ties: lowest id.
int32_t select_greedy(const candidate_list &c);
/// Softmax, then a draw with `rng` as described in the file comment.
int32_t select_random(candidate_list &c, std::mt19937 &rng);

/// A uniform double in [0, 1) from two mt19937 outputs (genrand_res53).
double uniform_res53(std::mt19937 &rng);

struct sampler_params {
  float temp = 0.8f;           ///< <= 0: greedy.
  int32_t top_k = 40;          ///< <= 0: off.
  float top_p = 0.95f;         ///< >= 1: off.
  float min_p = 0.05f;         ///< <= 0: off.
  float repeat_penalty = 1.0f; ///< 1: off.
  int32_t repeat_last_n = 64;  ///< Tokens the penalty looks back over (0: off).
  uint32_t seed = 0;
};

/// The default chain with its state (RNG, recent tokens).
class sampler {
public:
  explicit sampler(const sampler_params &params);

  /// Picks the next token from one position's logits (n_vocab floats).
  int32_t sample(std::span<const float> logits);
  /// Records a token of the sequence (prompt or generated) for the penalty.
  void accept(int32_t id);
  /// Forgets accepted tokens and reseeds the RNG.
  void reset();

  const sampler_params &params() const { return params_; }

private:
  sampler_params params_;
  std::mt19937 rng_;
  std::deque<int32_t> recent_;
  candidate_list scratch_;
};

} // namespace smepilot::rt
