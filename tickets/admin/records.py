"""Admin for rows that record what happened: read, never written by hand."""


class RecordAdminMixin:
    """A log of what happened (mail sent or received): nobody adds or deletes rows by hand.

    Change permission stays on the list only, for the actions (re-send, attach to a
    ticket); a row's own page is read-only.
    """

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)
