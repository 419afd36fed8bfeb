from django.contrib import admin

from tickets.models import Category, NonWorkingDay, Region, RegionalContact

admin.site.register([Category, Region, RegionalContact, NonWorkingDay])
