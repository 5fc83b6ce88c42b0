#!/usr/bin/env python3
"""Copies a GGUF file whose tokenizer.chat_template is ChatML, turning the
template into one no family matches (<|im_start|> -> <|xx_start|>, the same
length, so nothing else in the file moves), for the test that an unknown
embedded template is refused.

    patch_chat_template.py IN OUT
"""
import struct
import sys


def main():
    src, dst = sys.argv[1], sys.argv[2]
    data = bytearray(open(src, "rb").read())
    key = b"tokenizer.chat_template"
    # The key as GGUF writes it: its u64 length, the bytes, then the value
    # type (8: string), the string's u64 length and its bytes.
    at = data.find(struct.pack("<Q", len(key)) + key)
    if at < 0:
        sys.exit("%s: no tokenizer.chat_template" % src)
    at += 8 + len(key)
    (vtype,) = struct.unpack_from("<I", data, at)
    if vtype != 8:
        sys.exit("%s: tokenizer.chat_template is not a string" % src)
    (n,) = struct.unpack_from("<Q", data, at + 4)
    begin = at + 12
    text = bytes(data[begin:begin + n])
    if b"<|im_start|>" not in text:
        sys.exit("%s: the template is not ChatML" % src)
    data[begin:begin + n] = text.replace(b"<|im_start|>", b"<|xx_start|>")
    open(dst, "wb").write(data)


if __name__ == "__main__":
    main()
