// Sampler steps on toy distributions whose results are worked out by hand
// (the expected probabilities are computed here from the closed form).
#include "smepilot_rt/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

using namespace smepilot::rt;

namespace {
std::vector<int32_t> ids(const candidate_list &c) {
  std::vector<int32_t> out;
  for (const token_candidate &t : c.items)
    out.push_back(t.id);
  return out;
}
float prob_of(const candidate_list &c, int32_t id) {
  for (const token_candidate &t : c.items)
    if (t.id == id)
      return t.p;
  return -1;
}
} // namespace

TEST(Sampler, TopKThenSoftmaxGivesExactProbabilities) {
  const std::vector<float> logits = {1.0f, 3.0f, 2.0f, 0.5f};
  candidate_list c = candidate_list::from_logits(logits);
  apply_top_k(c, 2);
  apply_temperature(c, 1.0f);
  softmax_candidates(c);
  ASSERT_EQ(ids(c), (std::vector<int32_t>{1, 2}));
  // p(1) = e^3 / (e^3 + e^2) = 1 / (1 + e^-1).
  const double p1 = 1.0 / (1.0 + std::exp(-1.0));
  EXPECT_FLOAT_EQ(prob_of(c, 1), float(p1));
  EXPECT_FLOAT_EQ(prob_of(c, 2), float(1.0 - p1));
}

TEST(Sampler, TemperatureScalesLogits) {
  candidate_list c = candidate_list::from_logits(std::vector<float>{1.0f, 2.0f, 3.0f});
  apply_temperature(c, 0.5f);
  softmax_candidates(c);
  // softmax([2, 4, 6]).
  const double z = std::exp(2.0) + std::exp(4.0) + std::exp(6.0);
  EXPECT_FLOAT_EQ(prob_of(c, 0), float(std::exp(2.0) / z));
  EXPECT_FLOAT_EQ(prob_of(c, 1), float(std::exp(4.0) / z));
  EXPECT_FLOAT_EQ(prob_of(c, 2), float(std::exp(6.0) / z));
}

TEST(Sampler, TopPKeepsTheSmallestPrefixReachingP) {
  // Probabilities 0.5, 0.3, 0.15, 0.05 (ids 2, 0, 3, 1).
  const std::vector<float> logits = {std::log(0.3f), std::log(0.05f), std::log(0.5f),
                                     std::log(0.15f)};
  candidate_list a = candidate_list::from_logits(logits);
  apply_top_p(a, 0.7f);
  EXPECT_EQ(ids(a), (std::vector<int32_t>{2, 0}));
  candidate_list b = candidate_list::from_logits(logits);
  apply_top_p(b, 0.9f);
  EXPECT_EQ(ids(b), (std::vector<int32_t>{2, 0, 3}));
  candidate_list c = candidate_list::from_logits(logits);
  apply_top_p(c, 0.4f);
  EXPECT_EQ(ids(c), (std::vector<int32_t>{2}));
  candidate_list d = candidate_list::from_logits(logits);
  apply_top_p(d, 0.4f, /*min_keep=*/3);
  EXPECT_EQ(ids(d), (std::vector<int32_t>{2, 0, 3}));
  // After filtering, the survivors are renormalized: 0.5 / 0.8 and 0.3 / 0.8.
  softmax_candidates(a);
  EXPECT_FLOAT_EQ(prob_of(a, 2), 0.625f);
  EXPECT_FLOAT_EQ(prob_of(a, 0), 0.375f);
}

TEST(Sampler, MinPIsRelativeToTheMostLikely) {
  const std::vector<float> logits = {std::log(0.3f), std::log(0.05f), std::log(0.5f),
                                     std::log(0.15f)};
  candidate_list c = candidate_list::from_logits(logits);
  apply_min_p(c, 0.35f); // keeps p >= 0.175: 0.5 and 0.3
  EXPECT_EQ(ids(c), (std::vector<int32_t>{2, 0}));
  candidate_list d = candidate_list::from_logits(logits);
  apply_min_p(d, 0.25f); // keeps p >= 0.125: 0.5, 0.3, 0.15
  EXPECT_EQ(ids(d), (std::vector<int32_t>{2, 0, 3}));
}

TEST(Sampler, RepetitionPenaltyDividesPositiveMultipliesNegative) {
  candidate_list c = candidate_list::from_logits(std::vector<float>{2.0f, -2.0f, 1.0f, 3.0f});
  apply_repetition_penalty(c, std::vector<int32_t>{0, 1, 0}, 2.0f);
  EXPECT_EQ(c.items[0].logit, 1.0f);
  EXPECT_EQ(c.items[1].logit, -4.0f);
  EXPECT_EQ(c.items[2].logit, 1.0f);
  EXPECT_EQ(c.items[3].logit, 3.0f);
}

TEST(Sampler, GreedyTiesGoToTheLowestId) {
  candidate_list c = candidate_list::from_logits(std::vector<float>{0.1f, 0.7f, 0.2f, 0.7f});
  EXPECT_EQ(select_greedy(c), 1);
  sampler_params p;
  p.temp = 0;
  sampler s(p);
  EXPECT_EQ(s.sample(std::vector<float>{-1.0f, 5.0f, 5.0f}), 1);
  EXPECT_EQ(s.sample(std::vector<float>{9.0f, 5.0f, 5.0f}), 0);
}

TEST(Sampler, GreedyRespectsTheRepetitionPenalty) {
  sampler_params p;
  p.temp = 0;
  p.repeat_penalty = 2.0f;
  p.repeat_last_n = 2;
  sampler s(p);
  s.accept(1);
  // 3.0 / 2 = 1.5 < 2.0: token 0 wins.
  EXPECT_EQ(s.sample(std::vector<float>{2.0f, 3.0f}), 0);
  s.accept(0);
  s.accept(0); // token 1 falls out of the last 2.
  EXPECT_EQ(s.sample(std::vector<float>{2.0f, 3.0f}), 1);
}

TEST(Sampler, UniformIsInUnitInterval) {
  std::mt19937 rng(7);
  for (int i = 0; i < 10000; ++i) {
    double u = uniform_res53(rng);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(Sampler, FrequenciesMatchProbabilitiesWithinBinomialBounds) {
  // p = softmax(log(0.5, 0.3, 0.2)); no filtering, temperature 1.
  sampler_params p;
  p.temp = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 1234;
  sampler s(p);
  const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  const int n = 20000;
  std::map<int32_t, int> count;
  for (int i = 0; i < n; ++i)
    count[s.sample(logits)]++;
  const double want[3] = {0.5, 0.3, 0.2};
  for (int id = 0; id < 3; ++id) {
    double mean = n * want[id], sd = std::sqrt(n * want[id] * (1 - want[id]));
    EXPECT_NEAR(count[id], mean, 5 * sd) << "token " << id;
  }
  EXPECT_EQ(count.size(), 3u);
}

TEST(Sampler, TopKLimitsWhatCanBeDrawn) {
  sampler_params p;
  p.temp = 1.5f;
  p.top_k = 2;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 99;
  sampler s(p);
  const std::vector<float> logits = {0.0f, 1.0f, 0.9f, 0.8f};
  // Top-2 {1, 2}, then temperature 1.5: p(1) = 1 / (1 + e^(-0.1/1.5)).
  const double p1 = 1.0 / (1.0 + std::exp(-0.1 / 1.5));
  const int n = 20000;
  int c1 = 0;
  for (int i = 0; i < n; ++i) {
    int32_t t = s.sample(logits);
    ASSERT_TRUE(t == 1 || t == 2) << t;
    c1 += t == 1;
  }
  EXPECT_NEAR(c1, n * p1, 5 * std::sqrt(n * p1 * (1 - p1)));
}

TEST(Sampler, SameSeedSameSequence) {
  sampler_params p;
  p.temp = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 42;
  std::vector<float> logits(50);
  for (size_t i = 0; i < logits.size(); ++i)
    logits[i] = std::sin(float(i));
  sampler a(p), b(p);
  std::vector<int32_t> sa, sb;
  for (int i = 0; i < 200; ++i) {
    sa.push_back(a.sample(logits));
    sb.push_back(b.sample(logits));
  }
  EXPECT_EQ(sa, sb);
  a.reset();
  std::vector<int32_t> sc;
  for (int i = 0; i < 200; ++i)
    sc.push_back(a.sample(logits));
  EXPECT_EQ(sa, sc);
  p.seed = 43;
  sampler d(p);
  std::vector<int32_t> sd;
  for (int i = 0; i < 200; ++i)
    sd.push_back(d.sample(logits));
  EXPECT_NE(sa, sd);
}
