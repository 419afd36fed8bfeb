from django.urls import path

from tickets.views import captcha_audio, pages, rating, ticket

app_name = "tickets"

urlpatterns = [
    path("", pages.home, name="home"),
    # /ticket/… : submitting and following a ticket
    path("ticket/nuevo/", ticket.submit, name="submit"),
    path("ticket/enviado/", ticket.submitted, name="submitted"),
    path("ticket/ver/", ticket.lookup, name="lookup"),
    path("ticket/olvide-mi-id/", ticket.forgotten_id, name="forgotten_id"),
    path("ticket/olvidar/", ticket.forget, name="forget"),
    path("ticket/<str:tracking_id>/", ticket.ticket_page, name="ticket"),
    path("ticket/<str:tracking_id>/responder/", ticket.reply, name="reply"),
    path("ticket/<str:tracking_id>/resolver/", ticket.resolve, name="resolve"),
    path("ticket/<str:tracking_id>/adjunto/<int:pk>/", ticket.attachment, name="attachment"),
    path("ticket/<str:tracking_id>/calificar/", rating.rate, name="rate"),
    # /calificacion/… : rating from the e-mail's signed link, without the tracking ID
    path("calificacion/<str:token>/", rating.rate_by_link, name="rate_by_link"),
    # /codigo/… : the captcha read aloud
    path("codigo/audio/<slug:key>.wav", captcha_audio.captcha_audio, name="captcha_audio"),
    # Information pages
    path("limite-de-carga/", pages.upload_limits, name="upload_limits"),
    path("contactos-regionales/", pages.regional_contacts, name="regional_contacts"),
    path("aviso-de-privacidad/", pages.privacy_notice, name="privacy_notice"),
]
