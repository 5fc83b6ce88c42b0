// Chat template tests (chat_template.h): detection on the exact
// `tokenizer.chat_template` strings real GGUF files carry (Llama-3.2 and
// Llama-3.1 Instruct, Qwen3-0.6B; shared/models/chat-templates, from the
// models' tokenizer_config.json) and on the template embedded in
// qwen3-tiny-f16.gguf; an unknown template and an unknown name are refused
// with the families named; each family's turns are written as its template
// renders them.
//
// The files are required: when SMEPILOT_MODELS_DIR does not hold them, the
// tests fail (they never skip).
#include "smepilot_rt/chat_template.h"
#include "smepilot_rt/gguf.h"
#include "smepilot_rt/tokenizer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace smepilot::rt;

namespace {

std::string models_dir() { return SMEPILOT_MODELS_DIR; }

/// The text of a template file; fails the calling test when it is missing.
std::string read_template(const std::string &name) {
  const std::string path = models_dir() + "/chat-templates/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The pieces joined, template pieces marked [like this] so that a test
/// also sees which text is parsed for special tokens.
std::string render(const std::vector<chat_piece> &pieces) {
  std::string out;
  for (const chat_piece &p : pieces)
    out += p.special ? "[" + p.text + "]" : p.text;
  return out;
}

TEST(ChatTemplate, DetectsLlama32Instruct) {
  const std::string jinja = read_template("meta-llama-Llama-3.2-3B-Instruct.jinja");
  ASSERT_FALSE(jinja.empty());
  result<chat_template> t = detect_chat_template(jinja);
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->family, chat_family::llama3);
  EXPECT_EQ(chat_template_name(*t), "llama3");
}

TEST(ChatTemplate, DetectsLlama31Instruct) {
  result<chat_template> t =
      detect_chat_template(read_template("meta-llama-Llama-3.1-8B-Instruct.jinja"));
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->family, chat_family::llama3);
}

TEST(ChatTemplate, DetectsQwen3WithThinking) {
  const std::string jinja = read_template("Qwen-Qwen3-0.6B.jinja");
  ASSERT_FALSE(jinja.empty());
  result<chat_template> t = detect_chat_template(jinja);
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->family, chat_family::chatml);
  EXPECT_TRUE(t->thinking);
  EXPECT_EQ(chat_template_name(*t), "qwen3");
}

/// The template inside a GGUF file, read as smepilot-run reads it.
TEST(ChatTemplate, DetectsTheTemplateEmbeddedInQwen3Tiny) {
  auto f = gguf_file::open(models_dir() + "/qwen3-tiny-f16.gguf");
  ASSERT_TRUE(f) << f.error().message();
  result<std::string_view> jinja = (*f)->get_string("tokenizer.chat_template");
  ASSERT_TRUE(jinja) << jinja.error().message();
  EXPECT_EQ(std::string(*jinja), read_template("Qwen-Qwen3-0.6B.jinja"));
  result<chat_template> t = detect_chat_template(*jinja);
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(chat_template_name(*t), "qwen3");
}

/// Plain ChatML (Qwen2.5 style, no <think>): chatml without the switch.
TEST(ChatTemplate, DetectsChatmlWithoutThinking) {
  result<chat_template> t = detect_chat_template(
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
      "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}");
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(chat_template_name(*t), "chatml");
}

TEST(ChatTemplate, NoTemplateIsPlain) {
  result<chat_template> t = detect_chat_template("");
  ASSERT_TRUE(t);
  EXPECT_EQ(chat_template_name(*t), "plain");
}

/// A Gemma-style template (turn markers we do not write) is refused, never
/// formatted as something else.
TEST(ChatTemplate, RefusesAnUnknownTemplate) {
  const std::string jinja = "{{ bos_token }}{% for message in messages %}<start_of_turn>"
                            "{{ message['role'] }}\n{{ message['content'] | trim }}"
                            "<end_of_turn>\n{% endfor %}";
  result<chat_template> t = detect_chat_template(jinja);
  ASSERT_FALSE(t);
  const std::string &m = t.error().message();
  EXPECT_NE(m.find("is not one SMEPilot recognizes"), std::string::npos) << m;
  for (const char *name : {"llama3", "chatml", "qwen3", "plain", "--chat-template"})
    EXPECT_NE(m.find(name), std::string::npos) << name << " not in: " << m;
}

TEST(ChatTemplate, ByName) {
  for (const char *name : {"llama3", "chatml", "qwen3", "plain"}) {
    result<chat_template> t = chat_template_from_name(name);
    ASSERT_TRUE(t) << name;
    EXPECT_EQ(chat_template_name(*t), name);
  }
  result<chat_template> bogus = chat_template_from_name("bogus");
  ASSERT_FALSE(bogus);
  EXPECT_EQ(bogus.error().message().rfind("unknown chat template 'bogus'; the families "
                                          "supported are llama3 (",
                                          0),
            0u)
      << bogus.error().message();
}

TEST(ChatTemplate, Llama3Turns) {
  const chat_template t{chat_family::llama3, false};
  EXPECT_EQ(render(chat_format_turn(t, {true, "Be brief.", "Hi", true})),
            "[<|start_header_id|>system<|end_header_id|>\n\n]Be brief.[<|eot_id|>]"
            "[<|start_header_id|>user<|end_header_id|>\n\n]Hi"
            "[<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n]");
  // A later turn closes the reply (its <|eot_id|> was sampled, not
  // evaluated); the system text belongs to the first turn only.
  EXPECT_EQ(render(chat_format_turn(t, {false, "Be brief.", "And?", true})),
            "[<|eot_id|>][<|start_header_id|>user<|end_header_id|>\n\n]And?"
            "[<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n]");
}

TEST(ChatTemplate, Qwen3TurnsWithTheThinkingSwitch) {
  const chat_template t{chat_family::chatml, true};
  EXPECT_EQ(render(chat_format_turn(t, {true, "", "Hi", true})),
            "[<|im_start|>user\n]Hi[<|im_end|>\n<|im_start|>assistant\n]");
  EXPECT_EQ(render(chat_format_turn(t, {false, "", "Hi /no_think", false})),
            "[<|im_end|>\n][<|im_start|>user\n]Hi /no_think"
            "[<|im_end|>\n<|im_start|>assistant\n][<think>\n\n</think>\n\n]");
  // ChatML without thinking never writes the block.
  EXPECT_EQ(render(chat_format_turn({chat_family::chatml, false}, {true, "S", "Hi", false})),
            "[<|im_start|>system\n]S[<|im_end|>\n][<|im_start|>user\n]Hi"
            "[<|im_end|>\n<|im_start|>assistant\n]");
}

TEST(ChatTemplate, PlainTurnsAreTheText) {
  const chat_template t{chat_family::plain, false};
  EXPECT_EQ(render(chat_format_turn(t, {true, "Once", " upon", true})), "Once upon");
  EXPECT_EQ(render(chat_format_turn(t, {false, "Once", "a time", true})), "a time");
}

TEST(ChatTemplate, ThinkingSwitch) {
  EXPECT_TRUE(chat_thinking_switch("hello", true));
  EXPECT_FALSE(chat_thinking_switch("hello", false));
  EXPECT_FALSE(chat_thinking_switch("hello /no_think", true));
  EXPECT_TRUE(chat_thinking_switch("/think hello", false));
  // The later switch wins.
  EXPECT_TRUE(chat_thinking_switch("/no_think then /think", false));
  EXPECT_FALSE(chat_thinking_switch("/think then /no_think", true));
}

/// The template pieces are single special tokens in the Qwen3 vocabulary,
/// and <think> a token of its own (what the empty block relies on).
TEST(ChatTemplate, Qwen3PiecesAreSpecialTokens) {
  auto f = gguf_file::open(models_dir() + "/qwen3-tiny-f16.gguf");
  ASSERT_TRUE(f) << f.error().message();
  auto tok = tokenizer::from_gguf(**f);
  ASSERT_TRUE(tok) << tok.error().message();
  const std::vector<int32_t> ids = (*tok)->encode("<|im_start|>user\n", false, true);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids[0], (*tok)->find("<|im_start|>"));
  EXPECT_GE((*tok)->find("<think>"), 0);
  EXPECT_TRUE((*tok)->is_eog((*tok)->find("<|im_end|>")));
}

} // namespace
