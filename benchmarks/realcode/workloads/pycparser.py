"""pycparser: parse a preprocessed C file and print it back."""

from pycparser import c_generator, c_parser  # type: ignore[import-not-found,import-untyped]

HEADER = "typedef struct node { int value; struct node *next; } node_t;\n"
FUNCTION = """
int sum_{i}(node_t *head, int limit) {{
    int total = 0;
    for (node_t *p = head; p != 0 && limit > 0; p = p->next, limit--) {{
        if (p->value % 2 == 0) total += p->value * 2; else total -= p->value;
    }}
    switch (total & 3) {{ case 0: return total; case 1: return -total; default: break; }}
    return total >> 1;
}}
"""
SOURCE = HEADER + "".join(FUNCTION.format(i=i) for i in range(60))


def workload() -> object:
    ast = c_parser.CParser().parse(SOURCE, filename="<workload>")
    return c_generator.CGenerator().visit(ast)
