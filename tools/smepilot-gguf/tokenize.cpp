// Placeholder until the tokenizers land (issue 3); replaced by the real subcommand.
#include <cstdio>
int smepilot_gguf_tokenize(int, char **) {
  std::fprintf(stderr, "smepilot-gguf: error: tokenize is not implemented yet\n");
  return 1;
}
