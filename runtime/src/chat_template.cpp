// SMEPilot runtime: chat template families (chat_template.h).
#include "smepilot_rt/chat_template.h"

namespace smepilot::rt {
namespace {

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

std::string unsupported(std::string_view what) {
  return std::string(what) + "; the families supported are " + std::string(chat_template_names());
}

} // namespace

std::string_view chat_template_name(const chat_template &t) {
  switch (t.family) {
  case chat_family::llama3:
    return "llama3";
  case chat_family::chatml:
    return t.thinking ? "qwen3" : "chatml";
  case chat_family::plain:
    break;
  }
  return "plain";
}

std::string_view chat_template_names() {
  return "llama3 (Llama-3 instruct headers), chatml (ChatML), qwen3 (ChatML with Qwen3's "
         "thinking switch) and plain (no template: the turns as one text)";
}

result<chat_template> chat_template_from_name(std::string_view name) {
  if (name == "llama3")
    return chat_template{chat_family::llama3, false};
  if (name == "chatml")
    return chat_template{chat_family::chatml, false};
  if (name == "qwen3")
    return chat_template{chat_family::chatml, true};
  if (name == "plain")
    return chat_template{chat_family::plain, false};
  return status::error(unsupported("unknown chat template '" + std::string(name) + "'"));
}

result<chat_template> detect_chat_template(std::string_view jinja) {
  if (jinja.empty())
    return chat_template{chat_family::plain, false};
  if (contains(jinja, "<|start_header_id|>") && contains(jinja, "<|end_header_id|>"))
    return chat_template{chat_family::llama3, false};
  if (contains(jinja, "<|im_start|>") && contains(jinja, "<|im_end|>"))
    return chat_template{chat_family::chatml, contains(jinja, "<think>")};
  return status::error(unsupported("the model's chat template (tokenizer.chat_template, " +
                                   std::to_string(jinja.size()) +
                                   " bytes) is not one SMEPilot recognizes") +
                       "; choose one with --chat-template NAME");
}

std::vector<chat_piece> chat_format_turn(const chat_template &t, const chat_turn &turn) {
  std::vector<chat_piece> pieces;
  auto special = [&](std::string text) { pieces.push_back({std::move(text), true}); };
  auto content = [&](std::string_view text) {
    if (!text.empty())
      pieces.push_back({std::string(text), false});
  };
  switch (t.family) {
  case chat_family::llama3:
    if (!turn.first)
      special("<|eot_id|>");
    if (turn.first && !turn.system.empty()) {
      special("<|start_header_id|>system<|end_header_id|>\n\n");
      content(turn.system);
      special("<|eot_id|>");
    }
    special("<|start_header_id|>user<|end_header_id|>\n\n");
    content(turn.user);
    special("<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
    break;
  case chat_family::chatml:
    if (!turn.first)
      special("<|im_end|>\n");
    if (turn.first && !turn.system.empty()) {
      special("<|im_start|>system\n");
      content(turn.system);
      special("<|im_end|>\n");
    }
    special("<|im_start|>user\n");
    content(turn.user);
    special("<|im_end|>\n<|im_start|>assistant\n");
    if (t.thinking && !turn.thinking)
      special("<think>\n\n</think>\n\n");
    break;
  case chat_family::plain:
    if (turn.first)
      content(turn.system);
    content(turn.user);
    break;
  }
  return pieces;
}

bool chat_thinking_switch(std::string_view user, bool current) {
  const size_t off = user.rfind("/no_think"), on = user.rfind("/think");
  if (off == std::string_view::npos && on == std::string_view::npos)
    return current;
  if (off == std::string_view::npos)
    return true;
  if (on == std::string_view::npos)
    return false;
  return on > off;
}

} // namespace smepilot::rt
