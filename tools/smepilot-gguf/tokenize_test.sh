#!/bin/sh
# Checks `smepilot-gguf tokenize` end to end: the llama-tokenize output format,
# --ids-only / --no-bos / --no-special, escaping, and the exit status and
# single error line of each kind of failure.
#   tokenize_test.sh SMEPILOT_GGUF MODELS_DIR WORK_DIR
set -u
tool=$1 models=$2 work=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -d "$models" ] || fail "test models not found at $models"
mkdir -p "$work"

out=$("$tool" tokenize "$models/stories260K.gguf" "Once upon a time") || fail "tokenize exited $?"
want="     1 -> '<s>'
   403 -> ' Once'
   407 -> ' upon'
   261 -> ' a'
   378 -> ' time'"
[ "$out" = "$want" ] || fail "unexpected output: $out"

out=$("$tool" tokenize --ids-only "$models/stories260K.gguf" "Once upon a time") || fail "exited $?"
[ "$out" = "[1, 403, 407, 261, 378]" ] || fail "unexpected --ids-only output: $out"
out=$("$tool" tokenize "$models/stories260K.gguf" "Once upon a time" --ids-only --no-bos) ||
  fail "exited $?"
[ "$out" = "[403, 407, 261, 378]" ] || fail "unexpected --no-bos output: $out"

# Qwen3: no BOS by default; special tokens parsed unless --no-special;
# newline and quote escaped so every token stays on one line.
out=$("$tool" tokenize "$models/qwen3-tiny-f16.gguf" "<|im_start|>it's
x") || fail "qwen3 tokenize exited $?"
want="151644 -> '<|im_start|>'
   275 -> 'it'
   594 -> '\\'s'
   198 -> '\\n'
    87 -> 'x'"
[ "$out" = "$want" ] || fail "unexpected qwen3 output: $out"
out=$("$tool" tokenize "$models/qwen3-tiny-f16.gguf" "<|im_start|>" --ids-only --no-special) ||
  fail "exited $?"
case "$out" in *151644*) fail "--no-special still parsed <|im_start|>: $out" ;; esac

# A byte-fallback token that is part of a UTF-8 character prints as \xNN.
out=$("$tool" tokenize "$models/tokenizer-tests/ggml-vocab-llama-spm.gguf" "🚀" --no-bos) ||
  fail "exited $?"
printf '%s\n' "$out" | grep -qF "   243 -> '\\xf0'" || fail "byte token not escaped: $out"

# A TEXT starting with '-' after `--`.
out=$("$tool" tokenize --ids-only --no-bos "$models/stories260K.gguf" -- "-") || fail "exited $?"
[ "$out" != "[]" ] || fail "'-' gave no tokens"

for args in "" "x" "x y z" "x y --bogus"; do
  # shellcheck disable=SC2086
  "$tool" tokenize $args > /dev/null 2> "$work/err"; [ $? -eq 2 ] || fail "'tokenize $args' should exit 2"
  [ "$(wc -l < "$work/err")" -eq 1 ] || fail "expected one error line, got: $(cat "$work/err")"
done
"$tool" tokenize "$work/does-not-exist.gguf" "x" > /dev/null 2> "$work/err"; [ $? -eq 1 ] ||
  fail "missing file should exit 1"
[ "$(wc -l < "$work/err")" -eq 1 ] || fail "expected one error line, got: $(cat "$work/err")"

echo "tokenize_test: ok"
