// SMEPilot runtime: tokenizers built from GGUF metadata.
//
// Two tokenizer models, chosen by `tokenizer.ggml.model`:
//
//  - "llama": SentencePiece-style BPE over UTF-8 characters. Spaces become
//    U+2581 ("▁"), a space is prefixed to the text (add_space_prefix, default
//    true), adjacent symbols are merged highest vocabulary score first, and
//    characters that end up outside the vocabulary fall back to byte tokens
//    "<0xNN>" (then to the unknown token).
//  - "gpt2": byte-level BPE. The text is first split into pre-tokens by the
//    regular expression named by `tokenizer.ggml.pre` ("gpt-2" / "default",
//    "llama-bpe" and its aliases, "qwen2"; matched with PCRE2 and full
//    Unicode properties), each pre-token's bytes are mapped to printable
//    characters (GPT-2's bytes_to_unicode table), and the ranked merges of
//    `tokenizer.ggml.merges` are applied lowest rank first.
//
// Both follow llama.cpp's `llama_tokenize(text, add_special, parse_special)`
// and `llama_token_to_piece` / `llama_detokenize`, which are what users of GGUF
// files expect; deliberate differences are noted where they apply (invalid
// UTF-8, tokens missing from inconsistent vocabularies).
//
// Keys read (absent keys take the defaults in brackets):
//   tokenizer.ggml.model            string, required
//   tokenizer.ggml.pre              string ["default"] (gpt2 only)
//   tokenizer.ggml.tokens           string[], required
//   tokenizer.ggml.scores           f32[n_vocab] [all 0]
//   tokenizer.ggml.token_type       int[n_vocab] [all normal]
//   tokenizer.ggml.merges           string[] "left right", rank = index (gpt2: required)
//   tokenizer.ggml.{bos,eos,unknown,eot,eom}_token_id
//   tokenizer.ggml.fim_{pad,rep,sep}_token_id   (end-of-generation tokens)
//       [llama: bos 1, eos 2, unknown 0; gpt2: none]; 0xFFFFFFFF or -1 = none
//   tokenizer.ggml.add_bos_token    bool [llama: true; gpt2: true for the
//                                         llama-bpe family, else false]
//   tokenizer.ggml.add_eos_token    bool [false]
//   tokenizer.ggml.add_space_prefix bool [llama: true; gpt2: false]
#pragma once

#include "smepilot_rt/status.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace smepilot::rt {

class gguf_file;

/// Per-token type, numbered as in `tokenizer.ggml.token_type`. Values outside
/// this range read as `undefined`.
enum class token_type : int32_t {
  undefined = 0,
  normal = 1,
  unknown = 2,
  control = 3,      ///< BOS, EOS, <|im_end|>, ...: matched in text only with parse_special.
  user_defined = 4, ///< Added tokens: always matched in text as a whole (as llama.cpp and HF do).
  unused = 5,
  byte = 6, ///< "<0xNN>" byte-fallback tokens (SentencePiece).
};

enum class tokenizer_model {
  spm, ///< tokenizer.ggml.model = "llama"
  bpe, ///< tokenizer.ggml.model = "gpt2"
};

/// A vocabulary as stored in a GGUF file, before validation. `from_gguf`
/// fills one from metadata; tests and tools may build one directly.
struct tokenizer_vocab {
  tokenizer_model model = tokenizer_model::spm;
  /// BPE pre-tokenizer name (tokenizer.ggml.pre); empty means "default".
  std::string pre;
  std::vector<std::string> tokens;
  /// SPM merge priorities; empty means all 0. Otherwise one per token.
  std::vector<float> scores;
  /// Empty means all normal. Otherwise one per token.
  std::vector<token_type> types;
  /// BPE merges "left right"; the rank of a merge is its index.
  std::vector<std::string> merges;
  /// Special token ids; -1 means none. nullopt means the model's default.
  std::optional<int32_t> bos_id, eos_id, unk_id;
  int32_t eot_id = -1, eom_id = -1;
  int32_t fim_pad_id = -1, fim_rep_id = -1, fim_sep_id = -1;
  /// nullopt means the model's default (see the table at the top).
  std::optional<bool> add_bos, add_eos, add_space_prefix;
  /// Used in error messages ("<file>: ...").
  std::string name = "<vocab>";
};

/// A validated tokenizer. Immutable after construction: encode and the
/// lookups may be called concurrently from several threads.
class tokenizer {
public:
  /// Builds the tokenizer of a GGUF file. Errors name the file and the key.
  static result<std::unique_ptr<tokenizer>> from_gguf(const gguf_file &file);
  /// Validates `vocab` and builds the tokenizer (compiles the pre-tokenizer
  /// regex once).
  static result<std::unique_ptr<tokenizer>> from_vocab(tokenizer_vocab vocab);
  ~tokenizer();
  tokenizer(const tokenizer &) = delete;
  tokenizer &operator=(const tokenizer &) = delete;

  /// Token ids of `text`, with llama_tokenize(text, add_special, parse_special)
  /// semantics:
  ///  - add_special: prepend BOS if add_bos_default(), append EOS if
  ///    add_eos_default(). With add_special false, no BOS/EOS is ever added.
  ///  - parse_special: text equal to a control or unknown token's string
  ///    ("<s>", "<|im_end|>") becomes that token; otherwise such text is
  ///    tokenized as ordinary text. User-defined tokens ("<think>") are
  ///    matched in both cases. Special strings are cut out longest first.
  ///  - SPM: a space is prefixed to the text and to every text fragment that
  ///    follows a special token (add_space_prefix), so "Hello" ->
  ///    "▁Hello". Empty text gives no tokens (just BOS with add_special).
  ///  - Invalid UTF-8 never fails: its bytes are encoded as bytes (SPM byte
  ///    fallback; BPE byte-level tokens, each run of invalid bytes forming
  ///    its own pre-token). llama.cpp's BPE replaces them with U+FFFD instead.
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

  /// The raw vocabulary string ("▁Once", "Ġthe", "<0x0A>", "<s>"); empty for
  /// an invalid id.
  std::string_view token_text(int32_t id) const;
  /// The bytes a token stands for: SPM "▁" -> ' ' and "<0xNN>" -> byte NN;
  /// BPE byte-level characters -> bytes. Control and unknown tokens give
  /// their text ("<s>") when `render_special`, else nothing (as
  /// llama_token_to_piece's `special` flag); unused/undefined tokens and
  /// invalid ids give nothing. A piece may be an incomplete UTF-8 sequence.
  std::string token_to_piece(int32_t id, bool render_special = true) const;
  /// The whole text of `ids`, as llama_detokenize(remove_special = false,
  /// unparse_special = render_special) without its space clean-up: for SPM
  /// the space prefixed by encode is removed from the first token unless the
  /// sequence starts with BOS (" Once upon" after BOS, as llama.cpp prints).
  /// Bytes are returned as they are (possibly invalid UTF-8).
  std::string detokenize(std::span<const int32_t> ids, bool render_special = false) const;

  int32_t n_vocab() const;
  bool is_valid(int32_t id) const { return id >= 0 && id < n_vocab(); }
  /// -1 when the vocabulary has none.
  int32_t bos_id() const;
  int32_t eos_id() const;
  int32_t eot_id() const;
  int32_t unk_id() const;
  /// Whether encode(..., add_special = true, ...) adds BOS / EOS.
  bool add_bos_default() const;
  bool add_eos_default() const;
  bool add_space_prefix() const;
  /// End of generation: EOS, EOT, EOM, FIM pad/repo/sep, and tokens whose
  /// text names an end of turn (<|eot_id|>, <|im_end|>, <|endoftext|>,
  /// <|end_of_text|>, <end_of_turn>, <|end|>, <|eom_id|>, ...), as llama.cpp.
  bool is_eog(int32_t id) const;
  /// The ids is_eog accepts, ascending.
  const std::vector<int32_t> &eog_ids() const;
  token_type type(int32_t id) const;
  tokenizer_model model() const;
  /// The pre-tokenizer name in effect ("gpt-2", "llama-bpe", "qwen2"; "" for SPM).
  std::string_view pre() const;
  /// Id of a token string, or -1.
  int32_t find(std::string_view text) const;

  struct state;

private:
  explicit tokenizer(std::unique_ptr<state> s);
  std::unique_ptr<state> s_;
};

struct detokenizer_options {
  /// The ids pushed start a sequence (rather than continue text already
  /// shown). Then, for SPM with add_space_prefix, the space that encode
  /// prefixed is dropped from the first token unless that token is BOS, as
  /// tokenizer::detokenize does. Set to false when streaming only generated
  /// tokens after a prompt.
  bool sequence_start = true;
  /// Render control/unknown tokens as their text ("<|im_end|>").
  bool render_special = false;
};

/// Streaming detokenizer: turns ids into text as they are generated.
/// push() returns only complete UTF-8 characters; the bytes of a character
/// split across tokens (byte-fallback tokens <0xE2><0x82><0xAC>) are held
/// back until it is complete. The output is always valid UTF-8: each
/// maximal invalid subsequence becomes U+FFFD (as Unicode recommends), and
/// flush() turns a dangling incomplete character into U+FFFD.
class detokenizer {
public:
  explicit detokenizer(const tokenizer &tok, detokenizer_options options = {});
  /// Text completed by `id` (possibly empty).
  std::string push(int32_t id);
  /// Whatever is still held back; resets the UTF-8 state (not sequence_start).
  std::string flush();

private:
  const tokenizer *tok_;
  detokenizer_options options_;
  bool first_ = true;
  std::string pending_;
};

} // namespace smepilot::rt
