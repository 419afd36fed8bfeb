from django.contrib import admin

from tickets.models import OutgoingEmail

admin.site.register(OutgoingEmail)
