// SMEPilot runtime: token sampling (see sampler.h).
#include "smepilot_rt/sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace smepilot::rt {

namespace {
bool before(const token_candidate &a, const token_candidate &b) {
  if (a.logit != b.logit)
    return a.logit > b.logit;
  return a.id < b.id;
}
} // namespace

candidate_list candidate_list::from_logits(std::span<const float> logits) {
  candidate_list c;
  c.items.resize(logits.size());
  for (size_t i = 0; i < logits.size(); ++i)
    c.items[i] = {int32_t(i), logits[i], 0.0f};
  return c;
}

void sort_candidates(candidate_list &c) {
  if (c.sorted)
    return;
  std::sort(c.items.begin(), c.items.end(), before);
  c.sorted = true;
}

void softmax_candidates(candidate_list &c) {
  sort_candidates(c);
  if (c.items.empty())
    return;
  const float max = c.items.front().logit;
  double sum = 0;
  for (token_candidate &t : c.items) {
    t.p = std::exp(t.logit - max);
    sum += t.p;
  }
  for (token_candidate &t : c.items)
    t.p = float(t.p / sum);
}

void apply_repetition_penalty(candidate_list &c, std::span<const int32_t> recent, float penalty) {
  if (penalty == 1.0f || recent.empty())
    return;
  std::unordered_set<int32_t> seen(recent.begin(), recent.end());
  for (token_candidate &t : c.items) {
    if (!seen.count(t.id))
      continue;
    t.logit = t.logit <= 0 ? t.logit * penalty : t.logit / penalty;
  }
  c.sorted = false;
}

void apply_top_k(candidate_list &c, int32_t k) {
  if (k <= 0 || size_t(k) >= c.items.size()) {
    return;
  }
  if (!c.sorted)
    std::partial_sort(c.items.begin(), c.items.begin() + k, c.items.end(), before);
  c.items.resize(size_t(k));
  c.sorted = true;
}

void apply_top_p(candidate_list &c, float p, size_t min_keep) {
  if (p >= 1.0f || c.items.empty())
    return;
  softmax_candidates(c);
  double cum = 0;
  size_t keep = c.items.size();
  for (size_t i = 0; i < c.items.size(); ++i) {
    cum += c.items[i].p;
    if (cum >= p && i + 1 >= min_keep) {
      keep = i + 1;
      break;
    }
  }
  c.items.resize(keep);
}

void apply_min_p(candidate_list &c, float p, size_t min_keep) {
  if (p <= 0.0f || c.items.empty())
    return;
  sort_candidates(c);
  // p_i / p_max >= p  <=>  logit_i - logit_max >= log(p).
  const float min_logit = c.items.front().logit + std::log(p);
  size_t keep = 0;
  while (keep < c.items.size() && (c.items[keep].logit >= min_logit || keep < min_keep))
    ++keep;
  c.items.resize(keep);
}

void apply_temperature(candidate_list &c, float t) {
  for (token_candidate &x : c.items)
    x.logit /= t;
}

int32_t select_greedy(const candidate_list &c) {
  if (c.items.empty())
    return -1;
  const token_candidate *best = &c.items.front();
  for (const token_candidate &t : c.items)
    if (before(t, *best))
      best = &t;
  return best->id;
}

double uniform_res53(std::mt19937 &rng) {
  uint32_t a = rng() >> 5, b = rng() >> 6;
  return (double(a) * 67108864.0 + double(b)) * (1.0 / 9007199254740992.0);
}

int32_t select_random(candidate_list &c, std::mt19937 &rng) {
  if (c.items.empty())
    return -1;
  softmax_candidates(c);
  const double u = uniform_res53(rng);
  double cum = 0;
  for (const token_candidate &t : c.items) {
    cum += t.p;
    if (u < cum)
      return t.id;
  }
  return c.items.back().id; // u beyond the rounded total mass
}

sampler::sampler(const sampler_params &params) : params_(params), rng_(params.seed) {}

void sampler::reset() {
  recent_.clear();
  rng_.seed(params_.seed);
}

void sampler::accept(int32_t id) {
  if (params_.repeat_last_n <= 0)
    return;
  recent_.push_back(id);
  while (recent_.size() > size_t(params_.repeat_last_n))
    recent_.pop_front();
}

int32_t sampler::sample(std::span<const float> logits) {
  scratch_ = candidate_list::from_logits(logits);
  if (params_.repeat_penalty != 1.0f && !recent_.empty()) {
    std::vector<int32_t> recent(recent_.begin(), recent_.end());
    apply_repetition_penalty(scratch_, recent, params_.repeat_penalty);
  }
  if (params_.temp <= 0.0f)
    return select_greedy(scratch_);
  apply_top_k(scratch_, params_.top_k);
  apply_top_p(scratch_, params_.top_p);
  apply_min_p(scratch_, params_.min_p);
  apply_temperature(scratch_, params_.temp);
  return select_random(scratch_, rng_);
}

} // namespace smepilot::rt
