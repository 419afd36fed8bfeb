from django.contrib import admin

from tickets.models import Ticket

admin.site.register(Ticket)
