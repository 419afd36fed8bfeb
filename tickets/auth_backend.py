"""The authentication backend: Django's ModelBackend, with a user's permissions in one query.

Every admin page asks ``has_perm``, and the user object is loaded afresh on each
request, so Django's backend reads the user's own permissions and their groups'
permissions, two queries, on every page. Here both are one UNION of the same two
queries; who may do what is decided exactly as Django decides it.
"""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission


class OneQueryModelBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                perms = Permission.objects.values_list("content_type__app_label", "codename")
            else:
                own, groups = (
                    q.values_list("content_type__app_label", "codename").order_by()
                    for q in (
                        self._get_user_permissions(user_obj),
                        self._get_group_permissions(user_obj),
                    )
                )
                perms = own.union(groups)
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in perms}
        return user_obj._perm_cache
