// SMEPilot runtime: the C API (smepilot.h) over the C++ engine interface.
//
// Every entry point catches everything: a C caller cannot unwind a C++
// exception, so std::bad_alloc becomes SMEPILOT_ERR_OUT_OF_MEMORY and
// anything else SMEPILOT_ERR_INTERNAL, each with its message in the handle.
#include "smepilot_rt/smepilot.h"

#include "smepilot_rt/cpu_count.h"
#include "smepilot_rt/engine.h"
#include "smepilot_rt/gguf.h"
#include "smepilot_rt/reference_executor.h"
#include "smepilot_rt/sampler.h"
#include "smepilot_rt/tokenizer.h"

#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

namespace rt = smepilot::rt;

struct smepilot_model {
  std::unique_ptr<rt::gguf_file> file;
  std::unique_ptr<rt::tokenizer> tok;
  std::unique_ptr<rt::engine> eng;
  std::vector<float> logits;
  std::vector<float> scratch; ///< eval's output until it succeeds
  bool has_logits = false;
  /// Every token in the cache, in order (for the repetition penalty).
  std::vector<int32_t> history;
  std::optional<rt::sampler> smp;
  std::string last_error;
};

namespace {

thread_local std::string load_error;

smepilot_status fail(smepilot_model *m, smepilot_status code, std::string message) {
  if (m)
    m->last_error = std::move(message);
  else
    load_error = std::move(message);
  return code;
}

/// Runs `body` (returning smepilot_status) with the handle's error cleared
/// first and every exception turned into a code.
template <typename F> smepilot_status guarded(smepilot_model *m, const char *fn, F &&body) {
  try {
    if (m)
      m->last_error.clear();
    return body();
  } catch (const std::bad_alloc &) {
    return fail(m, SMEPILOT_ERR_OUT_OF_MEMORY, std::string(fn) + ": out of memory");
  } catch (const std::exception &e) {
    return fail(m, SMEPILOT_ERR_INTERNAL, std::string(fn) + ": " + e.what());
  } catch (...) {
    return fail(m, SMEPILOT_ERR_INTERNAL, std::string(fn) + ": unknown failure");
  }
}

smepilot_status null_argument(smepilot_model *m, const char *fn, const char *name) {
  return fail(m, SMEPILOT_ERR_INVALID_ARGUMENT, std::string(fn) + ": " + name + " is NULL");
}

/// Copies `text` and its NUL into buf, or reports the size needed.
smepilot_status write_text(smepilot_model *m, const char *fn, const std::string &text, char *buf,
                           size_t capacity, size_t *length) {
  *length = text.size();
  if (capacity < text.size() + 1)
    return fail(m, SMEPILOT_ERR_BUFFER_TOO_SMALL,
                std::string(fn) + ": the text takes " + std::to_string(text.size() + 1) +
                    " bytes with its NUL, the buffer has " + std::to_string(capacity));
  if (!buf)
    return null_argument(m, fn, "buf");
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  return SMEPILOT_OK;
}

bool same_params(const rt::sampler_params &a, const rt::sampler_params &b) {
  return a.temp == b.temp && a.top_k == b.top_k && a.top_p == b.top_p && a.min_p == b.min_p &&
         a.repeat_penalty == b.repeat_penalty && a.repeat_last_n == b.repeat_last_n &&
         a.seed == b.seed;
}

} // namespace

extern "C" {

void smepilot_model_options_default(smepilot_model_options *options) {
  if (options)
    *options = smepilot_model_options{};
}

smepilot_status smepilot_model_load(const char *path, const smepilot_model_options *options,
                                    smepilot_model **out) {
  const char *fn = "smepilot_model_load";
  return guarded(nullptr, fn, [&]() -> smepilot_status {
    load_error.clear();
    if (!out)
      return null_argument(nullptr, fn, "out");
    *out = nullptr;
    if (!path)
      return null_argument(nullptr, fn, "path");
    smepilot_model_options o{};
    if (options)
      o = *options;
    if (o.n_ctx < 0 || o.n_threads < 0 || o.n_batch < 0)
      return fail(nullptr, SMEPILOT_ERR_INVALID_ARGUMENT,
                  std::string(fn) +
                      ": n_ctx, n_threads and n_batch must not be negative (0: " + "the default)");
    auto m = std::make_unique<smepilot_model>();
    auto file = rt::gguf_file::open(path);
    if (!file)
      return fail(nullptr, SMEPILOT_ERR_LOAD, file.error().message());
    m->file = std::move(*file);
    auto tok = rt::tokenizer::from_gguf(*m->file);
    if (!tok)
      return fail(nullptr, SMEPILOT_ERR_LOAD, tok.error().message());
    m->tok = std::move(*tok);
    rt::engine_options eo;
    eo.n_threads = o.n_threads > 0 ? o.n_threads : rt::default_thread_count();
    eo.n_ctx = o.n_ctx;
    if (o.n_batch > 0)
      eo.n_batch = o.n_batch;
    auto eng = rt::load_reference_engine(*m->file, eo);
    if (!eng)
      return fail(nullptr, SMEPILOT_ERR_LOAD, eng.error().message());
    m->eng = std::move(*eng);
    m->logits.resize(size_t(m->eng->n_vocab()));
    *out = m.release();
    return SMEPILOT_OK;
  });
}

void smepilot_model_free(smepilot_model *model) { delete model; }

const char *smepilot_last_error(const smepilot_model *model) {
  return model ? model->last_error.c_str() : load_error.c_str();
}

const char *smepilot_status_name(smepilot_status status) {
  switch (status) {
  case SMEPILOT_OK:
    return "ok";
  case SMEPILOT_ERR_INVALID_ARGUMENT:
    return "invalid argument";
  case SMEPILOT_ERR_BUFFER_TOO_SMALL:
    return "buffer too small";
  case SMEPILOT_ERR_CONTEXT_FULL:
    return "context full";
  case SMEPILOT_ERR_LOAD:
    return "cannot load the model";
  case SMEPILOT_ERR_EVAL:
    return "evaluation failed";
  case SMEPILOT_ERR_NO_LOGITS:
    return "no logits";
  case SMEPILOT_ERR_OUT_OF_MEMORY:
    return "out of memory";
  case SMEPILOT_ERR_INTERNAL:
    return "internal error";
  }
  return "unknown status";
}

int32_t smepilot_n_vocab(const smepilot_model *model) { return model ? model->eng->n_vocab() : 0; }
int32_t smepilot_n_ctx(const smepilot_model *model) { return model ? model->eng->n_ctx() : 0; }
int32_t smepilot_n_past(const smepilot_model *model) { return model ? model->eng->n_past() : 0; }

int32_t smepilot_token_bos(const smepilot_model *model) {
  return model ? model->tok->bos_id() : -1;
}

int smepilot_token_is_eog(const smepilot_model *model, int32_t token) {
  return model && model->tok->is_valid(token) && model->tok->is_eog(token) ? 1 : 0;
}

smepilot_status smepilot_tokenize(smepilot_model *model, const char *text, int add_special,
                                  int32_t *tokens, size_t capacity, size_t *n_tokens) {
  const char *fn = "smepilot_tokenize";
  if (!model)
    return null_argument(nullptr, fn, "model");
  return guarded(model, fn, [&]() -> smepilot_status {
    if (!text)
      return null_argument(model, fn, "text");
    if (!n_tokens)
      return null_argument(model, fn, "n_tokens");
    const std::vector<int32_t> ids = model->tok->encode(text, add_special != 0, false);
    *n_tokens = ids.size();
    if (capacity < ids.size())
      return fail(model, SMEPILOT_ERR_BUFFER_TOO_SMALL,
                  std::string(fn) + ": the text has " + std::to_string(ids.size()) +
                      " tokens, the buffer holds " + std::to_string(capacity));
    if (!tokens && !ids.empty())
      return null_argument(model, fn, "tokens");
    std::copy(ids.begin(), ids.end(), tokens);
    return SMEPILOT_OK;
  });
}

smepilot_status smepilot_token_to_piece(smepilot_model *model, int32_t token, char *buf,
                                        size_t capacity, size_t *length) {
  const char *fn = "smepilot_token_to_piece";
  if (!model)
    return null_argument(nullptr, fn, "model");
  return guarded(model, fn, [&]() -> smepilot_status {
    if (!length)
      return null_argument(model, fn, "length");
    if (!model->tok->is_valid(token))
      return fail(model, SMEPILOT_ERR_INVALID_ARGUMENT,
                  std::string(fn) + ": token id " + std::to_string(token) +
                      " is out of range (vocabulary size " + std::to_string(model->tok->n_vocab()) +
                      ")");
    return write_text(model, fn, model->tok->token_to_piece(token, /*render_special=*/false), buf,
                      capacity, length);
  });
}

smepilot_status smepilot_detokenize(smepilot_model *model, const int32_t *tokens, size_t n_tokens,
                                    char *buf, size_t capacity, size_t *length) {
  const char *fn = "smepilot_detokenize";
  if (!model)
    return null_argument(nullptr, fn, "model");
  return guarded(model, fn, [&]() -> smepilot_status {
    if (!length)
      return null_argument(model, fn, "length");
    if (!tokens && n_tokens > 0)
      return null_argument(model, fn, "tokens");
    for (size_t i = 0; i < n_tokens; ++i)
      if (!model->tok->is_valid(tokens[i]))
        return fail(model, SMEPILOT_ERR_INVALID_ARGUMENT,
                    std::string(fn) + ": token " + std::to_string(i) + " (id " +
                        std::to_string(tokens[i]) + ") is out of range (vocabulary size " +
                        std::to_string(model->tok->n_vocab()) + ")");
    const std::string text = model->tok->detokenize({tokens, n_tokens});
    return write_text(model, fn, text, buf, capacity, length);
  });
}

smepilot_status smepilot_eval(smepilot_model *model, const int32_t *tokens, size_t n_tokens,
                              const float **logits) {
  const char *fn = "smepilot_eval";
  if (!model)
    return null_argument(nullptr, fn, "model");
  return guarded(model, fn, [&]() -> smepilot_status {
    if (!tokens)
      return null_argument(model, fn, "tokens");
    if (n_tokens == 0)
      return fail(model, SMEPILOT_ERR_INVALID_ARGUMENT, std::string(fn) + ": no tokens");
    const int32_t n_vocab = model->eng->n_vocab();
    for (size_t i = 0; i < n_tokens; ++i)
      if (tokens[i] < 0 || tokens[i] >= n_vocab)
        return fail(model, SMEPILOT_ERR_INVALID_ARGUMENT,
                    std::string(fn) + ": token " + std::to_string(i) + " (id " +
                        std::to_string(tokens[i]) + ") is out of range (vocabulary size " +
                        std::to_string(n_vocab) + ")");
    const int32_t n_past = model->eng->n_past();
    const int32_t n_ctx = model->eng->n_ctx();
    if (n_tokens > size_t(n_ctx - n_past))
      return fail(model, SMEPILOT_ERR_CONTEXT_FULL,
                  std::string(fn) + ": " + std::to_string(n_tokens) + " tokens after the " +
                      std::to_string(n_past) + " already evaluated do not fit in the context of " +
                      std::to_string(n_ctx) + " positions (n_ctx)");
    // Logits go to a scratch row first: a failed eval keeps the previous ones.
    model->scratch.resize(size_t(n_vocab));
    rt::status st =
        model->eng->eval({tokens, n_tokens}, n_past, rt::logits_mode::last, model->scratch.data());
    // The engine fails before changing the cache on bad input (checked
    // above) and after it on non-finite logits: keep history in step.
    const int32_t now = model->eng->n_past();
    if (now > n_past)
      model->history.insert(model->history.end(), tokens, tokens + (now - n_past));
    if (model->smp)
      for (int32_t i = 0; i < now - n_past; ++i)
        model->smp->accept(tokens[i]);
    if (!st) {
      model->has_logits = false;
      return fail(model, SMEPILOT_ERR_EVAL, std::string(fn) + ": " + st.message());
    }
    model->logits.swap(model->scratch);
    model->has_logits = true;
    if (logits)
      *logits = model->logits.data();
    return SMEPILOT_OK;
  });
}

const float *smepilot_logits(const smepilot_model *model) {
  return model && model->has_logits ? model->logits.data() : nullptr;
}

void smepilot_sampler_params_default(smepilot_sampler_params *params) {
  if (!params)
    return;
  const rt::sampler_params d;
  *params = smepilot_sampler_params{
      0.0f, d.top_k, d.top_p, d.min_p, d.repeat_penalty, d.repeat_last_n, d.seed};
}

smepilot_status smepilot_sample(smepilot_model *model, const smepilot_sampler_params *params,
                                int32_t *token) {
  const char *fn = "smepilot_sample";
  if (!model)
    return null_argument(nullptr, fn, "model");
  return guarded(model, fn, [&]() -> smepilot_status {
    if (!token)
      return null_argument(model, fn, "token");
    smepilot_sampler_params p;
    smepilot_sampler_params_default(&p);
    if (params)
      p = *params;
    if (p.temp != p.temp || p.top_p != p.top_p || p.min_p != p.min_p || !(p.repeat_penalty > 0) ||
        p.repeat_last_n < 0)
      return fail(model, SMEPILOT_ERR_INVALID_ARGUMENT,
                  std::string(fn) + ": bad parameters (temp, top_p and min_p must be numbers, " +
                      "repeat_penalty > 0, repeat_last_n >= 0)");
    if (!model->has_logits)
      return fail(model, SMEPILOT_ERR_NO_LOGITS,
                  std::string(fn) + ": no logits to sample from: call smepilot_eval first");
    rt::sampler_params sp;
    sp.temp = p.temp;
    sp.top_k = p.top_k;
    sp.top_p = p.top_p;
    sp.min_p = p.min_p;
    sp.repeat_penalty = p.repeat_penalty;
    sp.repeat_last_n = p.repeat_last_n;
    sp.seed = p.seed;
    if (!model->smp || !same_params(model->smp->params(), sp)) {
      model->smp.emplace(sp);
      for (int32_t id : model->history)
        model->smp->accept(id);
    }
    *token = model->smp->sample(model->logits);
    return SMEPILOT_OK;
  });
}

smepilot_status smepilot_reset(smepilot_model *model) {
  if (!model)
    return null_argument(nullptr, "smepilot_reset", "model");
  return guarded(model, "smepilot_reset", [&]() -> smepilot_status {
    model->eng->reset();
    model->history.clear();
    model->has_logits = false;
    if (model->smp)
      model->smp->reset();
    return SMEPILOT_OK;
  });
}

} // extern "C"
