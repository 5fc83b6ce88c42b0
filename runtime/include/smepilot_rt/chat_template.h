// SMEPilot runtime: chat templates, as families recognized by their text.
//
// A GGUF file carries its chat template as a Jinja program
// (`tokenizer.chat_template`). SMEPilot does not run Jinja: it recognizes the
// template's family by characteristic substrings, as llama.cpp did before it
// embedded a Jinja engine, and writes each family's turns itself:
//
//   llama3  Llama-3 instruct headers (the template holds <|start_header_id|>
//           and <|end_header_id|>):
//             <|start_header_id|>user<|end_header_id|>\n\nTEXT<|eot_id|>
//             <|start_header_id|>assistant<|end_header_id|>\n\n
//           BOS first (the tokenizer's). A system turn only when one is
//           given: the Llama-3.1/3.2 templates' default system block
//           ("Cutting Knowledge Date: ...", today's date) is not written.
//   chatml  ChatML, as Qwen (<|im_start|> and <|im_end|>):
//             <|im_start|>user\nTEXT<|im_end|>\n<|im_start|>assistant\n
//           With thinking (Qwen3: the template mentions <think>), a turn
//           whose thinking is off opens the reply with an empty block,
//           "<think>\n\n</think>\n\n", as Qwen3's template does for
//           enable_thinking=false.
//   plain   No template (a base model such as stories260K): the turns are
//           one running text; each turn's text is appended as it is and the
//           model continues it. A system text is the first text.
//
// Anything else is refused with the families named: a template we cannot
// recognize would be formatted wrongly without a word.
//
// Turns are written one at a time (chat_format_turn), so that a conversation
// appends to the KV cache and never re-evaluates its history. Unlike the
// templates, which re-render the whole conversation each time, earlier
// replies stay exactly as generated (Qwen3's template drops earlier replies'
// <think> blocks from the history; here they stay in the cache).
#pragma once

#include "smepilot_rt/status.h"

#include <string>
#include <string_view>
#include <vector>

namespace smepilot::rt {

enum class chat_family {
  plain,  ///< No template: turns concatenated.
  llama3, ///< Llama-3 instruct headers.
  chatml, ///< ChatML (Qwen).
};

struct chat_template {
  chat_family family = chat_family::plain;
  /// The model thinks in <think>...</think> before replying and the template
  /// can switch it off (Qwen3).
  bool thinking = false;
};

/// "llama3", "chatml", "plain" (a chatml template with thinking: "qwen3").
std::string_view chat_template_name(const chat_template &t);

/// The names --chat-template accepts, for messages: "llama3, chatml, qwen3
/// (chatml with its thinking switch) or plain".
std::string_view chat_template_names();

/// A template by name (chat_template_name's names); an error naming the
/// families supported otherwise.
result<chat_template> chat_template_from_name(std::string_view name);

/// The family of a `tokenizer.chat_template` text; empty text (no template)
/// is plain. An error naming the families supported when none matches.
result<chat_template> detect_chat_template(std::string_view jinja);

/// A piece of a turn's text. Template pieces are tokenized with special
/// tokens recognized ("<|im_start|>" is one token); the user's own text is
/// not, so typing "<|im_end|>" cannot close a turn.
struct chat_piece {
  std::string text;
  bool special = false; ///< Template text (parse special tokens).
};

struct chat_turn {
  /// The first turn of the conversation: then the system text, if any, comes
  /// first; otherwise the previous reply is closed first (its end-of-turn
  /// token was sampled, not evaluated).
  bool first = true;
  std::string_view system; ///< First turn only; empty: none.
  std::string_view user;
  /// chatml with thinking only: false opens the reply with an empty
  /// <think></think> block.
  bool thinking = true;
};

/// The text that appends `turn` to the conversation and opens the
/// assistant's reply. BOS is not included (the tokenizer adds it).
std::vector<chat_piece> chat_format_turn(const chat_template &t, const chat_turn &turn);

/// Qwen3's soft switch: "/no_think" in a user text turns thinking off,
/// "/think" on, from this turn on (the later of the two when both appear);
/// a text with neither keeps `current`. The text is sent as typed, switch
/// included, as Qwen3 expects.
bool chat_thinking_switch(std::string_view user, bool current);

} // namespace smepilot::rt
