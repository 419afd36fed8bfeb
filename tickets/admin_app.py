"""Django's admin app, with our site as its default (``admin.site``).

Its own module because INSTALLED_APPS imports it before the models are ready; the
site itself (tickets/admin_site.py) is imported later, when ``admin.site`` is first used.
"""

from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    default_site = "tickets.admin_site.StaffAdminSite"
