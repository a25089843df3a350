"""chardet: detect the encoding of short documents in several encodings."""

import chardet  # type: ignore[import-not-found,import-untyped]

TEXT = (
    "Grüße aus München! Ça va très bien, merci. Привет, как дела? "
    "日本語のテキストです。これはテストです。"
)
SAMPLES = [
    TEXT.encode("utf-8"),
    "Ça va très bien, garçon — déjà vu. Größe und Maße.".encode("windows-1252") * 3,
    "Привет, как дела? Это проверка кодировки текста.".encode("koi8-r") * 3,
    "日本語のテキストです。これはテストです。".encode("shift_jis") * 3,
]


def workload() -> object:
    return [chardet.detect(sample) for sample in SAMPLES * 20]
