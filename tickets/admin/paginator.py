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
    estimated from what VACUUM/ANALYZE keep in pg_class; a filtered list (the default
    "abiertos" view, a status, a search) from the planner's row estimate for its
    query (EXPLAIN, no rows read). Either is close enough to number the pages; when
    the estimate says ESTIMATE_ABOVE rows or fewer, the list is counted exactly,
    because people notice a wrong small number.
    """

    @cached_property
    def count(self):
        estimate = self._estimate()
        if estimate is not None and estimate > ESTIMATE_ABOVE:
            return estimate
        return super().count

    def _estimate(self):
        q = getattr(self.object_list, "query", None)
        if q is None or q.combinator or q.distinct or q.is_sliced or q.is_empty():
            return None
        connection = connections[self.object_list.db]
        if connection.vendor != "postgresql":
            return None
        if q.where:
            plan = json.loads(self.object_list.order_by().explain(format="json"))
            return int(plan[0]["Plan"]["Plan Rows"])
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [q.model._meta.db_table],
            )
            row = cursor.fetchone()
        # -1 means "never analysed" (PostgreSQL 14+): count instead.
        return int(row[0]) if row and row[0] >= 0 else None
