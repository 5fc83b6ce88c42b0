/* SMEPilot runtime: the C API for embedding the engine in other programs and
 * languages (docs/embedding.md).
 *
 * Plain C99 over the runtime's C++ engine (engine.h): a model handle owns the
 * GGUF file, its tokenizer, a reference engine with its KV cache, the logits
 * of the last evaluated position and a sampler. The typical loop:
 *
 *   smepilot_model *m;
 *   smepilot_model_load("stories260K.gguf", NULL, &m);     // defaults
 *   smepilot_tokenize(m, "Once upon a time", 1, ids, cap, &n);
 *   smepilot_eval(m, ids, n, NULL);                        // the prompt
 *   for (;;) {
 *     smepilot_sample(m, NULL, &id);                       // greedy default
 *     if (smepilot_token_is_eog(m, id)) break;
 *     smepilot_token_to_piece(m, id, buf, sizeof buf, &len);
 *     smepilot_eval(m, &id, 1, NULL);
 *   }
 *   smepilot_model_free(m);
 *
 * Rules:
 *  - Every function that can fail returns an smepilot_status; SMEPILOT_OK is
 *    0. Nothing is thrown or aborted across this boundary: bad arguments
 *    (NULL pointers, buffers too small, token ids out of range, inputs beyond
 *    the context) are reported as codes, with a message in
 *    smepilot_last_error(handle).
 *  - Outputs are written only on success, except the needed size of a
 *    too-small buffer (SMEPILOT_ERR_BUFFER_TOO_SMALL), which is written so
 *    that the caller can retry.
 *  - A handle is used by one thread at a time; different handles are
 *    independent. The engine's own worker threads (n_threads) are internal.
 *  - Only the reference engine (reference_executor.h) is offered: the JIT
 *    engine lives in the compiler (lib/Engine, LLVM/MLIR), which this library
 *    does not link.
 *
 * Symbols are prefixed smepilot_ (the compiler-facing ABI of abi.h uses
 * smepilot_rt_). SMEPILOT_C_API_VERSION changes when a signature or a
 * struct layout changes. */
#ifndef SMEPILOT_RT_SMEPILOT_H
#define SMEPILOT_RT_SMEPILOT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SMEPILOT_C_API_VERSION 1

typedef enum smepilot_status {
  SMEPILOT_OK = 0,
  SMEPILOT_ERR_INVALID_ARGUMENT = 1, /* NULL pointer, bad value, id out of range */
  SMEPILOT_ERR_BUFFER_TOO_SMALL = 2, /* the needed size was written */
  SMEPILOT_ERR_CONTEXT_FULL = 3,     /* the tokens do not fit in n_ctx */
  SMEPILOT_ERR_LOAD = 4,             /* the file cannot be opened or is not a supported model */
  SMEPILOT_ERR_EVAL = 5,             /* the engine failed (e.g. non-finite logits) */
  SMEPILOT_ERR_NO_LOGITS = 6,        /* smepilot_sample before any smepilot_eval */
  SMEPILOT_ERR_OUT_OF_MEMORY = 7,
  SMEPILOT_ERR_INTERNAL = 8 /* an unexpected failure inside the runtime */
} smepilot_status;

/** An opaque loaded model with its context (KV cache, logits, sampler). */
typedef struct smepilot_model smepilot_model;

typedef struct smepilot_model_options {
  /** KV cache capacity in positions; 0: the model's training context. */
  int32_t n_ctx;
  /** Worker threads; 0: the CPUs this process may use. */
  int32_t n_threads;
  /** Tokens evaluated together (prompt chunk size); 0: 64. */
  int32_t n_batch;
} smepilot_model_options;

/** The defaults: every field 0 (see the fields). */
void smepilot_model_options_default(smepilot_model_options *options);

/** Opens the GGUF file at `path` and loads the reference engine. `options`
 * may be NULL (the defaults). On success *out is a new handle; on failure
 * *out is NULL and the message is smepilot_last_error(NULL) in this thread. */
smepilot_status smepilot_model_load(const char *path, const smepilot_model_options *options,
                                    smepilot_model **out);

/** Frees the handle and everything it owns. NULL is a no-op. */
void smepilot_model_free(smepilot_model *model);

/** The message of the last failed call on `model` ("" when none failed).
 * With NULL: the last failure, in the calling thread, of a call made
 * without a handle (smepilot_model_load, or any function given a NULL
 * model). Valid until the next call on the same handle. */
const char *smepilot_last_error(const smepilot_model *model);

/** A short English name of a status code ("buffer too small"). */
const char *smepilot_status_name(smepilot_status status);

/** Vocabulary size, KV cache capacity, positions evaluated so far; 0 for
 * NULL. */
int32_t smepilot_n_vocab(const smepilot_model *model);
int32_t smepilot_n_ctx(const smepilot_model *model);
int32_t smepilot_n_past(const smepilot_model *model);

/** The BOS token id, or -1 when the model has none. */
int32_t smepilot_token_bos(const smepilot_model *model);
/** 1 when `token` ends a generation (EOS, EOT, ...), else 0. */
int smepilot_token_is_eog(const smepilot_model *model, int32_t token);

/** Token ids of the UTF-8 `text` (NUL-terminated). add_special != 0 adds BOS
 * (and EOS) as the model's tokenizer says (llama_tokenize's add_special);
 * special-token text ("<s>") is tokenized as plain text. Writes *n_tokens
 * ids to `tokens`; when `capacity` is too small nothing is written to
 * `tokens`, *n_tokens is the count needed and the result is
 * SMEPILOT_ERR_BUFFER_TOO_SMALL. `tokens` may be NULL when capacity is 0. */
smepilot_status smepilot_tokenize(smepilot_model *model, const char *text, int add_special,
                                  int32_t *tokens, size_t capacity, size_t *n_tokens);

/** The bytes `token` stands for (" Once"; control tokens such as "<s>" give
 * nothing), NUL-terminated in `buf`; *length excludes the NUL. A piece may
 * be part of a UTF-8 character (byte tokens). When `capacity` is less than
 * length + 1, *length is set and the result is
 * SMEPILOT_ERR_BUFFER_TOO_SMALL. */
smepilot_status smepilot_token_to_piece(smepilot_model *model, int32_t token, char *buf,
                                        size_t capacity, size_t *length);

/** The text of a whole sequence, as smepilot_token_to_piece concatenated,
 * except that the space the tokenizer prefixed is dropped from the first
 * token unless the sequence starts with BOS. Same buffer rules. */
smepilot_status smepilot_detokenize(smepilot_model *model, const int32_t *tokens, size_t n_tokens,
                                    char *buf, size_t capacity, size_t *length);

/** Evaluates `n_tokens` tokens at the positions after those already
 * evaluated (n_past, n_past + 1, ...) and keeps the last one's logits
 * (n_vocab floats). When `logits` is not NULL, *logits points to them; the
 * pointer is valid until the next smepilot_eval, smepilot_reset or
 * smepilot_model_free. Fails without changing anything when n_tokens is 0,
 * a token id is out of range, or n_past + n_tokens > n_ctx
 * (SMEPILOT_ERR_CONTEXT_FULL). */
smepilot_status smepilot_eval(smepilot_model *model, const int32_t *tokens, size_t n_tokens,
                              const float **logits);

/** The last evaluated position's logits (n_vocab floats), or NULL before any
 * smepilot_eval (and after smepilot_reset). */
const float *smepilot_logits(const smepilot_model *model);

typedef struct smepilot_sampler_params {
  float temp;           /* <= 0: greedy (argmax, ties to the lowest id) */
  int32_t top_k;        /* <= 0: off */
  float top_p;          /* >= 1: off */
  float min_p;          /* <= 0: off */
  float repeat_penalty; /* 1: off */
  int32_t repeat_last_n;
  uint32_t seed;
} smepilot_sampler_params;

/** Greedy: temp 0, top_k 40, top_p 0.95, min_p 0.05, repeat_penalty 1,
 * repeat_last_n 64, seed 0 (smepilot-run's defaults with --temp 0). */
void smepilot_sampler_params_default(smepilot_sampler_params *params);

/** Picks the next token from the last logits with the runtime's sampler
 * chain (sampler.h: repetition penalty, top-k, top-p, min-p, temperature,
 * then a seeded draw). `params` may be NULL (the defaults above). The
 * handle's sampler keeps its random state across calls; it is rebuilt, and
 * reseeded, when `params` differ from the previous call's. Every evaluated
 * token counts for the repetition penalty. Does not evaluate the token. */
smepilot_status smepilot_sample(smepilot_model *model, const smepilot_sampler_params *params,
                                int32_t *token);

/** Empties the KV cache, drops the logits and reseeds the sampler: the next
 * smepilot_eval starts a new sequence at position 0. */
smepilot_status smepilot_reset(smepilot_model *model);

#ifdef __cplusplus
}
#endif

#endif /* SMEPILOT_RT_SMEPILOT_H */
