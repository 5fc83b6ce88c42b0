#!/bin/sh
# Checks `smepilot-gguf dump` end to end: output sections on a real model, the
# JSON form, and the exit status of each kind of failure.
#   dump_test.sh SMEPILOT_GGUF MODELS_DIR WORK_DIR
set -u
tool=$1 models=$2 work=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -d "$models" ] || fail "test models not found at $models"
mkdir -p "$work"

out=$("$tool" dump "$models/stories260K.gguf") || fail "dump of stories260K.gguf exited $?"
for want in 'version: 3' 'alignment: 32' 'metadata: 19 keys' \
    'general.architecture: string = "llama"' \
    'tokenizer.ggml.tokens: array = [512 x string] "<unk>", "<s>", "</s>"' \
    'llama.attention.layer_norm_rms_epsilon: float32 = 9.99999975e-06' \
    'tensors: 48' 'token_embd.weight         f32   [64, 512]' \
    'model_config: llama' 'rope_theta           = 10000' 'rope_type            = interleaved' \
    'tied_embeddings      = false' 'weights: ok, 48 of 48 tensors bound'; do
  printf '%s\n' "$out" | grep -qF -- "$want" || fail "dump output lacks: $want"
done

out=$("$tool" dump "$models/qwen3moe-tiny-f16.gguf" --no-arrays) || fail "moe dump exited $?"
for want in 'tokenizer.ggml.tokens: array = [151936 x string]' 'rope_type            = neox' \
    'n_expert             = 8' 'expert_weights_norm  = true' 'tied_embeddings      = true'; do
  printf '%s\n' "$out" | grep -qF -- "$want" || fail "moe dump output lacks: $want"
done
printf '%s\n' "$out" | grep -qF '"!"' && fail "--no-arrays still printed array elements"

"$tool" dump "$models/llama3-tiny-f16.gguf" --json > "$work/llama3.json" || fail "json dump exited $?"
if command -v python3 > /dev/null; then
  python3 - "$work/llama3.json" <<'EOF' || fail "JSON dump is wrong"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["version"] == 3 and d["alignment"] == 32
keys = {m["key"]: m for m in d["metadata"]}
assert keys["llama.rope.freq_base"]["value"] == 500000
toks = keys["tokenizer.ggml.tokens"]
assert toks["count"] == 128256 and len(toks["values"]) == 128256
assert d["tensors"][0]["name"] == "rope_freqs.weight" and d["tensors"][0]["dims"] == [8]
c = d["model_config"]
assert c["arch"] == "llama" and c["head_dim"] == 16 and c["has_rope_freqs"] and c["tied_embeddings"]
assert "model_error" not in d
EOF
fi

"$tool" dump > /dev/null 2>&1; [ $? -eq 2 ] || fail "missing FILE should exit 2"
"$tool" dump x --bogus > /dev/null 2>&1; [ $? -eq 2 ] || fail "unknown option should exit 2"
"$tool" dump "$work/does-not-exist.gguf" > /dev/null 2> "$work/err"; [ $? -eq 1 ] ||
  fail "missing file should exit 1"
[ "$(wc -l < "$work/err")" -eq 1 ] || fail "expected one error line, got: $(cat "$work/err")"

# A file cut inside its tensor data: one line naming the file and the tensor.
head -c 1000000 "$models/stories260K.gguf" > "$work/cut.gguf"
"$tool" dump "$work/cut.gguf" > /dev/null 2> "$work/err"; [ $? -eq 1 ] || fail "cut file should exit 1"
grep -q "cut.gguf: offset [0-9]*: tensor 'blk\.[0-9]*\..*': data \[[0-9]*, [0-9]*) is past the end of the file (size 1000000)" "$work/err" ||
  fail "unexpected message for a cut file: $(cat "$work/err")"
# A stdout that fails is an error (exit 1, one line), not a silent exit 0.
"$tool" dump "$models/stories260K.gguf" > /dev/full 2> "$work/err"; [ $? -eq 1 ] ||
  fail "a full stdout should exit 1"
grep -qx "smepilot-gguf: error: cannot write to standard output: No space left on device" "$work/err" ||
  fail "unexpected message for a full stdout: $(cat "$work/err")"
# A FIFO is refused at once (the open used to wait forever for a writer).
rm -f "$work/fifo.gguf"
mkfifo "$work/fifo.gguf" || fail "mkfifo failed"
timeout 20 "$tool" dump "$work/fifo.gguf" > /dev/null 2> "$work/err"; rc=$?
rm -f "$work/fifo.gguf"
[ $rc -eq 1 ] || fail "a FIFO should exit 1 at once (got $rc; 124 = it waited)"
grep -q "fifo.gguf: is a FIFO, not a regular file" "$work/err" ||
  fail "unexpected message for a FIFO: $(cat "$work/err")"

# Tensor names are bytes from the file: printed escaped, as keys are, so an
# escape sequence never reaches the terminal. The name of token_embd.weight
# (17 bytes) becomes ESC "[2J" "token_embd.we" (17 bytes) in place.
if command -v python3 > /dev/null; then
  python3 - "$models/stories260K.gguf" "$work/esc.gguf" <<'EOF' || fail "cannot patch the model"
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
old = struct.pack("<Q", 17) + b"token_embd.weight"
at = b.index(old)
b[at + 8:at + 25] = b"\x1b[2Jtoken_embd.we"
open(sys.argv[2], "wb").write(b)
EOF
  "$tool" dump "$work/esc.gguf" > "$work/esc.out" 2> "$work/err"
  grep -qF '\x1b[2Jtoken_embd.we' "$work/esc.out" || fail "the tensor name is not shown escaped"
  if LC_ALL=C grep -q "$(printf '\033')" "$work/esc.out"; then
    fail "an escape byte reached stdout"
  fi
fi
echo "dump_test: ok"
