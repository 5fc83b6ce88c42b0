// The C API (smepilot.h) on stories260K: greedy generation gives llama.cpp's
// text (the oracle smepilot-run is checked against), and every error path
// returns its code with a message instead of crashing.
#include "smepilot_rt/smepilot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace {

const std::string stories = std::string(SMEPILOT_MODELS_DIR) + "/stories260K.gguf";

// oracles/stories260K.json, P1 "Once upon a time": the prompt's ids with BOS
// and the first 16 greedy ids llama.cpp generated; the text is what
// `smepilot-run -p "Once upon a time" -n 16 --temp 0` prints.
const std::vector<int32_t> prompt_ids = {1, 403, 407, 261, 378};
const std::vector<int32_t> greedy_ids = {432, 383, 286, 261, 376, 298, 315, 421,
                                         395, 317, 426, 338, 401, 396, 267, 337};
const char *greedy_text =
    " Once upon a time, there was a little girl named Lily. She loved to play";

class CApi : public ::testing::Test {
protected:
  void SetUp() override {
    smepilot_model_options o;
    smepilot_model_options_default(&o);
    o.n_ctx = 64;
    o.n_threads = 2;
    ASSERT_EQ(smepilot_model_load(stories.c_str(), &o, &m), SMEPILOT_OK)
        << smepilot_last_error(nullptr);
    ASSERT_NE(m, nullptr);
  }
  void TearDown() override { smepilot_model_free(m); }

  std::vector<int32_t> tokenize(const char *text) {
    std::vector<int32_t> ids(64);
    size_t n = 0;
    EXPECT_EQ(smepilot_tokenize(m, text, 1, ids.data(), ids.size(), &n), SMEPILOT_OK)
        << smepilot_last_error(m);
    ids.resize(n);
    return ids;
  }

  smepilot_model *m = nullptr;
};

TEST_F(CApi, GreedyGenerationMatchesTheOracle) {
  EXPECT_EQ(smepilot_n_vocab(m), 512);
  EXPECT_EQ(smepilot_n_ctx(m), 64);
  EXPECT_EQ(smepilot_token_bos(m), 1);
  const std::vector<int32_t> prompt = tokenize("Once upon a time");
  ASSERT_EQ(prompt, prompt_ids);

  const float *logits = nullptr;
  ASSERT_EQ(smepilot_eval(m, prompt.data(), prompt.size(), &logits), SMEPILOT_OK)
      << smepilot_last_error(m);
  ASSERT_NE(logits, nullptr);
  EXPECT_EQ(logits, smepilot_logits(m));
  EXPECT_EQ(smepilot_n_past(m), 5);

  std::vector<int32_t> all = prompt, generated;
  std::string pieces;
  for (int i = 0; i < 16; ++i) {
    int32_t id = -1;
    ASSERT_EQ(smepilot_sample(m, nullptr, &id), SMEPILOT_OK) << smepilot_last_error(m);
    generated.push_back(id);
    all.push_back(id);
    char piece[64];
    size_t len = 0;
    ASSERT_EQ(smepilot_token_to_piece(m, id, piece, sizeof piece, &len), SMEPILOT_OK);
    EXPECT_EQ(std::string(piece).size(), len);
    pieces += piece;
    ASSERT_EQ(smepilot_eval(m, &id, 1, nullptr), SMEPILOT_OK) << smepilot_last_error(m);
  }
  EXPECT_EQ(generated, greedy_ids);
  EXPECT_EQ(smepilot_n_past(m), 21);

  std::string text(256, '\0');
  size_t len = 0;
  ASSERT_EQ(smepilot_detokenize(m, all.data(), all.size(), text.data(), text.size(), &len),
            SMEPILOT_OK);
  text.resize(len);
  EXPECT_EQ(text, greedy_text);
  EXPECT_EQ(" Once upon a time" + pieces, greedy_text);

  // After a reset the same sequence gives the same tokens.
  ASSERT_EQ(smepilot_reset(m), SMEPILOT_OK);
  EXPECT_EQ(smepilot_n_past(m), 0);
  EXPECT_EQ(smepilot_logits(m), nullptr);
  ASSERT_EQ(smepilot_eval(m, prompt.data(), prompt.size(), nullptr), SMEPILOT_OK);
  int32_t id = -1;
  ASSERT_EQ(smepilot_sample(m, nullptr, &id), SMEPILOT_OK);
  EXPECT_EQ(id, greedy_ids[0]);
}

TEST_F(CApi, SeededSamplingIsReproducibleAndTopKOneIsGreedy) {
  const std::vector<int32_t> prompt = tokenize("Once upon a time");
  smepilot_sampler_params p;
  smepilot_sampler_params_default(&p);
  EXPECT_EQ(p.temp, 0.0f);
  p.temp = 1.5f;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.top_k = 0;
  p.seed = 42;
  auto run = [&](const smepilot_sampler_params &params) {
    EXPECT_EQ(smepilot_reset(m), SMEPILOT_OK);
    EXPECT_EQ(smepilot_eval(m, prompt.data(), prompt.size(), nullptr), SMEPILOT_OK);
    std::vector<int32_t> out;
    for (int i = 0; i < 12; ++i) {
      int32_t id = -1;
      EXPECT_EQ(smepilot_sample(m, &params, &id), SMEPILOT_OK) << smepilot_last_error(m);
      out.push_back(id);
      EXPECT_EQ(smepilot_eval(m, &id, 1, nullptr), SMEPILOT_OK);
    }
    return out;
  };
  const std::vector<int32_t> a = run(p);
  const std::vector<int32_t> b = run(p);
  EXPECT_EQ(a, b);
  // At temperature 1.5 over the whole vocabulary, 12 draws do not follow
  // the argmax path.
  EXPECT_NE(a, std::vector<int32_t>(greedy_ids.begin(), greedy_ids.begin() + 12));
  p.top_k = 1;
  EXPECT_EQ(run(p), std::vector<int32_t>(greedy_ids.begin(), greedy_ids.begin() + 12));
}

TEST(CApiErrors, LoadFailures) {
  smepilot_model *m = reinterpret_cast<smepilot_model *>(1);
  EXPECT_EQ(smepilot_model_load("/nonexistent/model.gguf", nullptr, &m), SMEPILOT_ERR_LOAD);
  EXPECT_EQ(m, nullptr);
  EXPECT_NE(std::string(smepilot_last_error(nullptr)).find("/nonexistent/model.gguf"),
            std::string::npos)
      << smepilot_last_error(nullptr);
  // Not a GGUF file.
  EXPECT_EQ(
      smepilot_model_load((std::string(SMEPILOT_MODELS_DIR) + "/tok512.bin").c_str(), nullptr, &m),
      SMEPILOT_ERR_LOAD);
  EXPECT_EQ(m, nullptr);
  EXPECT_NE(std::string(smepilot_last_error(nullptr)), "");

  EXPECT_EQ(smepilot_model_load(nullptr, nullptr, &m), SMEPILOT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(smepilot_last_error(nullptr)), "smepilot_model_load: path is NULL");
  EXPECT_EQ(smepilot_model_load(stories.c_str(), nullptr, nullptr), SMEPILOT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(smepilot_last_error(nullptr)), "smepilot_model_load: out is NULL");
  smepilot_model_options o;
  smepilot_model_options_default(&o);
  o.n_threads = -1;
  EXPECT_EQ(smepilot_model_load(stories.c_str(), &o, &m), SMEPILOT_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(smepilot_last_error(nullptr)).find("must not be negative"),
            std::string::npos);
  // A success clears the thread's message.
  ASSERT_EQ(smepilot_model_load(stories.c_str(), nullptr, &m), SMEPILOT_OK);
  EXPECT_EQ(std::string(smepilot_last_error(nullptr)), "");
  EXPECT_EQ(smepilot_n_ctx(m), 512); // the training context
  smepilot_model_free(m);
  smepilot_model_free(nullptr);
}

TEST(CApiErrors, NullModel) {
  int32_t ids[4];
  size_t n = 0;
  char buf[8];
  EXPECT_EQ(smepilot_tokenize(nullptr, "hi", 1, ids, 4, &n), SMEPILOT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(smepilot_last_error(nullptr)), "smepilot_tokenize: model is NULL");
  EXPECT_EQ(smepilot_token_to_piece(nullptr, 1, buf, 8, &n), SMEPILOT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(smepilot_detokenize(nullptr, ids, 0, buf, 8, &n), SMEPILOT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(smepilot_eval(nullptr, ids, 1, nullptr), SMEPILOT_ERR_INVALID_ARGUMENT);
  int32_t id;
  EXPECT_EQ(smepilot_sample(nullptr, nullptr, &id), SMEPILOT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(smepilot_reset(nullptr), SMEPILOT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(smepilot_last_error(nullptr)), "smepilot_reset: model is NULL");
  EXPECT_EQ(smepilot_n_vocab(nullptr), 0);
  EXPECT_EQ(smepilot_n_ctx(nullptr), 0);
  EXPECT_EQ(smepilot_n_past(nullptr), 0);
  EXPECT_EQ(smepilot_token_bos(nullptr), -1);
  EXPECT_EQ(smepilot_token_is_eog(nullptr, 2), 0);
  EXPECT_EQ(smepilot_logits(nullptr), nullptr);
}

TEST_F(CApi, TokenizeErrors) {
  int32_t ids[3];
  size_t n = 99;
  EXPECT_EQ(smepilot_tokenize(m, "Once upon a time", 1, ids, 3, &n), SMEPILOT_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 5u); // the size needed
  EXPECT_EQ(std::string(smepilot_last_error(m)),
            "smepilot_tokenize: the text has 5 tokens, the buffer holds 3");
  // Asking for the size with no buffer.
  EXPECT_EQ(smepilot_tokenize(m, "Once upon a time", 0, nullptr, 0, &n),
            SMEPILOT_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 4u);
  EXPECT_EQ(smepilot_tokenize(m, nullptr, 1, ids, 3, &n), SMEPILOT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(smepilot_last_error(m)), "smepilot_tokenize: text is NULL");
  EXPECT_EQ(smepilot_tokenize(m, "hi", 1, ids, 3, nullptr), SMEPILOT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(smepilot_tokenize(m, "hi", 1, nullptr, 3, &n), SMEPILOT_ERR_INVALID_ARGUMENT);
  // A successful call clears the handle's message.
  EXPECT_EQ(smepilot_tokenize(m, "", 1, ids, 3, &n), SMEPILOT_OK);
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(ids[0], 1);
  EXPECT_EQ(std::string(smepilot_last_error(m)), "");
}

TEST_F(CApi, TextBufferErrors) {
  char buf[4];
  size_t len = 0;
  // " Once" needs 6 bytes with its NUL.
  EXPECT_EQ(smepilot_token_to_piece(m, 403, buf, sizeof buf, &len), SMEPILOT_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(len, 5u);
  EXPECT_NE(std::string(smepilot_last_error(m)).find("takes 6 bytes"), std::string::npos);
  EXPECT_EQ(smepilot_token_to_piece(m, 512, buf, sizeof buf, &len), SMEPILOT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(smepilot_last_error(m)),
            "smepilot_token_to_piece: token id 512 is out of range (vocabulary size 512)");
  EXPECT_EQ(smepilot_token_to_piece(m, -1, buf, sizeof buf, &len), SMEPILOT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(smepilot_token_to_piece(m, 403, nullptr, 16, &len), SMEPILOT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(smepilot_token_to_piece(m, 403, buf, sizeof buf, nullptr),
            SMEPILOT_ERR_INVALID_ARGUMENT);
  // Control tokens render as nothing.
  EXPECT_EQ(smepilot_token_to_piece(m, 1, buf, sizeof buf, &len), SMEPILOT_OK);
  EXPECT_EQ(len, 0u);
  EXPECT_EQ(buf[0], '\0');

  const int32_t ids[] = {1, 403, 407};
  EXPECT_EQ(smepilot_detokenize(m, ids, 3, buf, sizeof buf, &len), SMEPILOT_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(len, std::string(" Once upon").size());
  const int32_t bad[] = {1, 9999};
  EXPECT_EQ(smepilot_detokenize(m, bad, 2, buf, sizeof buf, &len), SMEPILOT_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(smepilot_last_error(m)).find("token 1 (id 9999) is out of range"),
            std::string::npos);
  EXPECT_EQ(smepilot_detokenize(m, nullptr, 2, buf, sizeof buf, &len),
            SMEPILOT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(smepilot_detokenize(m, nullptr, 0, buf, sizeof buf, &len), SMEPILOT_OK);
  EXPECT_EQ(len, 0u);
}

TEST_F(CApi, EvalErrorsChangeNothing) {
  const int32_t first[] = {1, 403};
  ASSERT_EQ(smepilot_eval(m, first, 2, nullptr), SMEPILOT_OK);
  const float *before = smepilot_logits(m);
  ASSERT_NE(before, nullptr);
  const float logit0 = before[0];

  const int32_t bad[] = {407, 512};
  EXPECT_EQ(smepilot_eval(m, bad, 2, nullptr), SMEPILOT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(smepilot_last_error(m)),
            "smepilot_eval: token 1 (id 512) is out of range (vocabulary size 512)");
  const int32_t negative[] = {-3};
  EXPECT_EQ(smepilot_eval(m, negative, 1, nullptr), SMEPILOT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(smepilot_eval(m, nullptr, 1, nullptr), SMEPILOT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(smepilot_eval(m, first, 0, nullptr), SMEPILOT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(smepilot_last_error(m)), "smepilot_eval: no tokens");

  // A prompt longer than the context (64 positions, 2 used).
  std::vector<int32_t> longer(63, 261);
  EXPECT_EQ(smepilot_eval(m, longer.data(), longer.size(), nullptr), SMEPILOT_ERR_CONTEXT_FULL);
  EXPECT_EQ(std::string(smepilot_last_error(m)),
            "smepilot_eval: 63 tokens after the 2 already evaluated do not fit in the context "
            "of 64 positions (n_ctx)");
  EXPECT_EQ(smepilot_n_past(m), 2);
  EXPECT_EQ(smepilot_logits(m), before);
  EXPECT_EQ(smepilot_logits(m)[0], logit0);

  // Exactly filling the context works; one more is refused.
  longer.resize(62);
  ASSERT_EQ(smepilot_eval(m, longer.data(), longer.size(), nullptr), SMEPILOT_OK)
      << smepilot_last_error(m);
  EXPECT_EQ(smepilot_n_past(m), 64);
  const int32_t one = 261;
  EXPECT_EQ(smepilot_eval(m, &one, 1, nullptr), SMEPILOT_ERR_CONTEXT_FULL);
}

TEST_F(CApi, SampleErrors) {
  int32_t id = -1;
  EXPECT_EQ(smepilot_sample(m, nullptr, &id), SMEPILOT_ERR_NO_LOGITS);
  EXPECT_EQ(std::string(smepilot_last_error(m)),
            "smepilot_sample: no logits to sample from: call smepilot_eval first");
  EXPECT_EQ(id, -1);
  const int32_t bos = 1;
  ASSERT_EQ(smepilot_eval(m, &bos, 1, nullptr), SMEPILOT_OK);
  EXPECT_EQ(smepilot_sample(m, nullptr, nullptr), SMEPILOT_ERR_INVALID_ARGUMENT);
  smepilot_sampler_params p;
  smepilot_sampler_params_default(&p);
  p.temp = std::nanf("");
  EXPECT_EQ(smepilot_sample(m, &p, &id), SMEPILOT_ERR_INVALID_ARGUMENT);
  smepilot_sampler_params_default(&p);
  p.repeat_penalty = 0;
  EXPECT_EQ(smepilot_sample(m, &p, &id), SMEPILOT_ERR_INVALID_ARGUMENT);
  smepilot_sampler_params_default(&p);
  p.repeat_last_n = -1;
  EXPECT_EQ(smepilot_sample(m, &p, &id), SMEPILOT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(id, -1);
  // After reset, no logits again.
  ASSERT_EQ(smepilot_reset(m), SMEPILOT_OK);
  EXPECT_EQ(smepilot_sample(m, nullptr, &id), SMEPILOT_ERR_NO_LOGITS);
}

TEST(CApiErrors, StatusNames) {
  EXPECT_STREQ(smepilot_status_name(SMEPILOT_OK), "ok");
  EXPECT_STREQ(smepilot_status_name(SMEPILOT_ERR_CONTEXT_FULL), "context full");
  EXPECT_STREQ(smepilot_status_name(static_cast<smepilot_status>(9)), "unknown status");
}

} // namespace
