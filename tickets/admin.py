from django.contrib import admin

from tickets.models import Category, NonWorkingDay, OutgoingEmail, Region, RegionalContact, Ticket

admin.site.register([Ticket, Category, Region, RegionalContact, NonWorkingDay, OutgoingEmail])
