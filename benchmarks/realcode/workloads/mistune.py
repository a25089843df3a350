"""mistune: render a README-like Markdown document to HTML."""

import mistune  # type: ignore[import-not-found,import-untyped]

SECTION = """
## Section {i}

Some *emphasis*, some **strong text**, `inline code` and a [link](https://example.com/{i}).
A second line with an auto link <https://example.org> and an image ![alt](img{i}.png).

- item one
- item two with `code`
  - nested item
1. first
2. second

> a quote with *style*

```python
def f(x):
    return x * {i}
```

| a | b |
|---|---|
| {i} | two |
"""
DOCUMENT = "# Title\n" + "".join(SECTION.format(i=i) for i in range(80))


def workload() -> object:
    markdown = mistune.create_markdown(plugins=["table", "strikethrough", "url"])
    return markdown(DOCUMENT)
