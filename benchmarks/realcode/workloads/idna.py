"""idna: encode and decode internationalised host names, as an HTTP client does."""

import idna  # type: ignore[import-not-found,import-untyped]

LABELS = ["bücher", "例え", "пример", "münchen", "δοκιμή", "テスト", "straße", "example", "café"]
TLDS = ("com", "de", "org", "net", "jp", "ru", "io", "fr")
HOSTS = [f"{a}.{b}.{tld}" for a in LABELS for b in LABELS for tld in TLDS]


def workload() -> object:
    out = []
    for host in HOSTS:
        encoded = idna.encode(host, uts46=True)
        out.append(idna.decode(encoded))
    return out
