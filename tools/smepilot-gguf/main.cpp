// smepilot-gguf: look inside GGUF model files.
//
//   smepilot-gguf dump FILE            metadata and tensor table
//   smepilot-gguf tokenize FILE TEXT   token ids of TEXT with FILE's tokenizer
//
// Each subcommand lives in its own file; see their --help for options.
#include "smepilot_rt/output_file.h"
#include "smepilot_rt/version.h"

#include <cstdio>
#include <cstring>

int smepilot_gguf_dump(int argc, char **argv);
int smepilot_gguf_tokenize(int argc, char **argv);

static void print_usage(FILE *out) {
  std::fprintf(out,
               "usage: smepilot-gguf <command> [options]\n"
               "\n"
               "commands:\n"
               "  dump FILE [--json] [--no-arrays]   print metadata and the "
               "tensor table\n"
               "  tokenize FILE TEXT [--ids-only] [--no-bos] [--no-special]\n"
               "                                     print the tokens of TEXT\n"
               "\n"
               "  --help     this text\n"
               "  --version  print the version\n");
}

static int gguf_main(int argc, char **argv) {
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (!std::strcmp(cmd, "--help") || !std::strcmp(cmd, "-h")) {
    print_usage(stdout);
    return 0;
  }
  if (!std::strcmp(cmd, "--version")) {
    std::printf("smepilot-gguf %s\n", smepilot::rt::version_string());
    return 0;
  }
  if (!std::strcmp(cmd, "dump"))
    return smepilot_gguf_dump(argc - 1, argv + 1);
  if (!std::strcmp(cmd, "tokenize"))
    return smepilot_gguf_tokenize(argc - 1, argv + 1);
  std::fprintf(stderr,
               "smepilot-gguf: error: unknown command '%s' (expected dump or "
               "tokenize)\n",
               cmd);
  return 2;
}

int main(int argc, char **argv) {
  const int rc = gguf_main(argc, argv);
  // Everything goes to stdout: a failed write (> /dev/full) is an error, a
  // gone reader (| head) ends the run by SIGPIPE (docs/tools.md).
  if (smepilot::rt::status st = smepilot::rt::flush_stdout(); !st) {
    std::fprintf(stderr, "smepilot-gguf: error: %s\n", st.message().c_str());
    return rc != 0 ? rc : 1;
  }
  return rc;
}
