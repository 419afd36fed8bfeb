"""Serving an attachment, the same way to requesters and to staff."""

from django.http import FileResponse, Http404

from tickets.models import Attachment


def attachment_response(attachment: Attachment) -> FileResponse:
    """The file as a download, never rendered by our origin whatever it holds.

    A row whose file is gone from storage (a restore without the media, a purge
    racing with the click) is a 404, not a 500.
    """
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
