"""A paginator that does not count the whole ticket table on every page view."""

import json

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

# Below this an exact COUNT is cheap, and people notice a wrong small number.
ESTIMATE_ABOVE = 10_000


class EstimatedCountPaginator(Paginator):
    """Exact counts for small lists; PostgreSQL's estimate for large ones.

    A COUNT(*) on PostgreSQL reads every matching row (MVCC keeps no row count),
    which at 100,000 tickets is the slowest query of the page. The whole table is
    estimated from what VACUUM/ANALYZE keep in pg_class. A filtered list (the default
    "abiertos" view, a status, a search) is counted with a cap: at most
    ESTIMATE_ABOVE + 1 rows are read, so a list of up to ESTIMATE_ABOVE rows (the
    usual queue) gets its exact number from that one query, and only a longer one
    asks the planner for its row estimate (EXPLAIN, no rows read), which is close
    enough to number the pages. People notice a wrong small number, not a wrong large
    one. Asking the planner first, for every list, cost an eighth of the queue's time
    (benchmarks/RESULTS.md).
    """

    @cached_property
    def count(self):
        q = getattr(self.object_list, "query", None)
        if q is None or q.combinator or q.distinct or q.is_sliced or q.is_empty():
            return super().count
        connection = connections[self.object_list.db]
        if connection.vendor != "postgresql":
            return super().count
        if not q.where:
            estimate = self._table_estimate(connection, q.model._meta.db_table)
            if estimate is not None and estimate > ESTIMATE_ABOVE:
                return estimate
            return super().count
        # values("pk"): the page's annotations (a subquery per row) have no place in a count.
        capped = self.object_list.order_by().values("pk")[: ESTIMATE_ABOVE + 1].count()
        if capped <= ESTIMATE_ABOVE:
            return capped
        plan = json.loads(self.object_list.order_by().explain(format="json"))
        return max(capped, int(plan[0]["Plan"]["Plan Rows"]))

    @staticmethod
    def _table_estimate(connection, table: str) -> int | None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table]
            )
            row = cursor.fetchone()
        # -1 means "never analysed" (PostgreSQL 14+): count instead.
        return int(row[0]) if row and row[0] >= 0 else None
