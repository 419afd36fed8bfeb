from django.urls import path

from tickets import views, views_privacy

app_name = "tickets"

urlpatterns = [
    path("", views.home, name="home"),
    # /ticket/… : submitting and following a ticket
    path("ticket/nuevo/", views.submit, name="submit"),
    path("ticket/enviado/", views.submitted, name="submitted"),
    path("ticket/ver/", views.lookup, name="lookup"),
    path("ticket/olvide-mi-id/", views.forgotten_id, name="forgotten_id"),
    path("ticket/<str:tracking_id>/", views.ticket_page, name="ticket"),
    path("ticket/<str:tracking_id>/responder/", views.reply, name="reply"),
    path("ticket/<str:tracking_id>/resolver/", views.resolve, name="resolve"),
    path("ticket/<str:tracking_id>/adjunto/<int:pk>/", views.attachment, name="attachment"),
    # Information pages
    path("limite-de-carga/", views.upload_limits, name="upload_limits"),
    path("contactos-regionales/", views.regional_contacts, name="regional_contacts"),
    path("aviso-de-privacidad/", views_privacy.privacy_notice, name="privacy_notice"),
]
