"""wcwidth: terminal widths of mixed-script strings, as a table or prompt layout computes them."""

import wcwidth  # type: ignore[import-not-found,import-untyped]

TEXTS = [
    "hello world",
    "コンニチハ、世界",
    "emoji 👍🏽 and flags 🇯🇵",
    "combining e\u0301 and a\u0308",
    "\u4e2d\u6587\u5b57\u7b26\u4e32 mixed with ascii",
    "\x1b[31mred\x1b[0m text",
] * 1200


def workload() -> object:
    out = []
    for text in TEXTS:
        out.append(wcwidth.wcswidth(text))
        out.append(wcwidth.width(text))
        out.append([wcwidth.wcwidth(ch) for ch in text])
    return out
