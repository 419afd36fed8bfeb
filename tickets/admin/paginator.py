"""A paginator that does not count the whole ticket table on every page view."""

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

# Below this an exact COUNT is cheap, and people notice a wrong small number.
ESTIMATE_ABOVE = 10_000


class EstimatedCountPaginator(Paginator):
    """Exact counts for filtered lists; PostgreSQL's planner estimate for the whole table.

    An unfiltered COUNT(*) on PostgreSQL reads every visible row (MVCC keeps no
    row count), which at 100,000 tickets is the slowest query of the page. The
    estimate that VACUUM/ANALYZE keep in pg_class is close enough to number the
    pages; a filtered list (the default "abiertos" view, a search) is counted
    exactly, through the indexes that serve its filter.
    """

    @cached_property
    def count(self):
        estimate = self._estimate()
        if estimate is not None and estimate > ESTIMATE_ABOVE:
            return estimate
        return super().count

    def _estimate(self):
        q = getattr(self.object_list, "query", None)
        if q is None or q.where or q.combinator or q.distinct or q.is_sliced:
            return None
        connection = connections[self.object_list.db]
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [q.model._meta.db_table],
            )
            row = cursor.fetchone()
        # -1 means "never analysed" (PostgreSQL 14+): count instead.
        return int(row[0]) if row and row[0] >= 0 else None
