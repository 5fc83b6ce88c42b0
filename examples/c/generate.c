/* generate: greedy text generation through the SMEPilot C API (smepilot.h),
 * in plain C99.
 *
 *   generate MODEL.gguf [PROMPT] [N]
 *
 * prints the prompt and up to N (default 32) generated tokens, stopping at
 * the end of generation or when the context is full. Errors go to stderr
 * with the runtime's message, and the exit status is 1. */
#include <smepilot_rt/smepilot.h>

#include <stdio.h>
#include <stdlib.h>

static int fail(smepilot_model *model, const char *what,
                smepilot_status status) {
  fprintf(stderr, "generate: %s: %s (%s)\n", what, smepilot_last_error(model),
          smepilot_status_name(status));
  smepilot_model_free(model);
  return 1;
}

int main(int argc, char **argv) {
  const char *prompt = argc > 2 ? argv[2] : "Once upon a time";
  long n_predict = 32;
  smepilot_model *model = NULL;
  smepilot_status st;
  int32_t *ids = NULL;
  size_t n_ids = 0, len = 0;
  char piece[256];
  long i;

  if (argc < 2 || argc > 4) {
    fprintf(stderr, "usage: generate MODEL.gguf [PROMPT] [N]\n");
    return 2;
  }
  if (argc > 3) {
    char *end = NULL;
    n_predict = strtol(argv[3], &end, 10);
    if (*argv[3] == '\0' || *end != '\0' || n_predict < 0) {
      fprintf(stderr, "generate: N must be a non-negative integer, not '%s'\n",
              argv[3]);
      return 2;
    }
  }

  st = smepilot_model_load(argv[1], NULL, &model);
  if (st != SMEPILOT_OK)
    return fail(NULL, "cannot load the model", st);

  /* Ask for the size first, then tokenize into a buffer of that size. */
  st = smepilot_tokenize(model, prompt, 1, NULL, 0, &n_ids);
  if (st != SMEPILOT_OK && st != SMEPILOT_ERR_BUFFER_TOO_SMALL)
    return fail(model, "tokenize", st);
  ids = malloc((n_ids ? n_ids : 1) * sizeof *ids);
  if (!ids)
    return fail(model, "out of memory", SMEPILOT_ERR_OUT_OF_MEMORY);
  st = smepilot_tokenize(model, prompt, 1, ids, n_ids, &n_ids);
  if (st == SMEPILOT_OK && n_ids == 0) {
    fprintf(stderr, "generate: the prompt gives no tokens\n");
    free(ids);
    smepilot_model_free(model);
    return 1;
  }
  if (st == SMEPILOT_OK)
    st = smepilot_detokenize(model, ids, n_ids, piece, sizeof piece, &len);
  if (st == SMEPILOT_OK)
    fputs(piece, stdout);
  if (st == SMEPILOT_ERR_BUFFER_TOO_SMALL)
    st = SMEPILOT_OK; /* a prompt too long to echo here is still evaluated */
  if (st == SMEPILOT_OK)
    st = smepilot_eval(model, ids, n_ids, NULL);
  free(ids);
  if (st != SMEPILOT_OK)
    return fail(model, "prompt", st);

  for (i = 0; i < n_predict; ++i) {
    int32_t id;
    st = smepilot_sample(model, NULL, &id);
    if (st != SMEPILOT_OK)
      return fail(model, "sample", st);
    if (smepilot_token_is_eog(model, id))
      break;
    st = smepilot_token_to_piece(model, id, piece, sizeof piece, &len);
    if (st != SMEPILOT_OK)
      return fail(model, "token_to_piece", st);
    fputs(piece, stdout);
    fflush(stdout);
    if (i + 1 == n_predict || smepilot_n_past(model) == smepilot_n_ctx(model))
      break;
    st = smepilot_eval(model, &id, 1, NULL);
    if (st != SMEPILOT_OK)
      return fail(model, "eval", st);
  }
  fputc('\n', stdout);
  smepilot_model_free(model);
  return 0;
}
