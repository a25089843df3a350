"""sqlparse: format and split a batch of typical queries (what a SQL linter or ORM log does)."""

import sqlparse  # type: ignore[import-not-found,import-untyped]

QUERIES = [
    "select a.id, b.name, count(*) as n from accounts a join users b on a.user_id = b.id "
    "where a.created > '2024-01-01' and b.active = 1 group by a.id, b.name having count(*) > 3 "
    "order by n desc limit 10",
    "insert into logs (level, message, created) values ('info', 'started', now()), "
    "('warn', 'slow query', now())",
    "update orders set status = 'shipped', shipped_at = current_timestamp "
    "where id in (select order_id from shipments where carrier = 'ups')",
    "create table items (id integer primary key, name varchar(80) not null, price decimal(8, 2))",
    "with recent as (select * from events where ts > now() - interval '1 day') "
    "select kind, count(*) from recent group by kind",
]


def workload() -> object:
    out = []
    for _ in range(6):
        for query in QUERIES:
            out.append(sqlparse.format(query, reindent=True, keyword_case="upper"))
        out.extend(str(s) for s in sqlparse.parse(";\n".join(QUERIES)))
    return out
