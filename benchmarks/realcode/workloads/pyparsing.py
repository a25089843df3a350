"""pyparsing: an arithmetic grammar parsing a batch of expressions."""

import pyparsing as pp  # type: ignore[import-not-found,import-untyped]

number = pp.common.number
identifier = pp.common.identifier
operand = number | identifier
expression = pp.infix_notation(
    operand,
    [
        (pp.one_of("- +"), 1, pp.OpAssoc.RIGHT),
        (pp.one_of("* /"), 2, pp.OpAssoc.LEFT),
        (pp.one_of("+ -"), 2, pp.OpAssoc.LEFT),
    ],
)
TEXTS = [f"a{i} + {i} * (b - {i}.5) / -c{i} - ({i} + x * y)" for i in range(150)]


def workload() -> object:
    return [expression.parse_string(text, parse_all=True).as_list() for text in TEXTS]
