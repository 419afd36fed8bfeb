"""Size limits applied while an upload streams in, before anything is kept.

``LimitedUploadHandler`` sits in FILE_UPLOAD_HANDLERS in front of Django's
TemporaryFileUploadHandler and sees every chunk first:

* a file that grows past TICKET_MAX_FILE_SIZE stops reaching the temporary file
  (disk use per file stays at the limit plus one chunk); the form then gets an
  empty stand-in that remembers the size, so ``uploads.check_file`` refuses it
  with the usual "pesa más de…" message and the rest of the form survives;
* a request whose files together pass MAX_REQUEST_SIZE is refused outright.

tickets.middleware already answers 413 when Content-Length is over
MAX_REQUEST_SIZE, and under WSGI Django never reads past Content-Length (a
chunked body without one reads as empty), so the request-level check here is
the second line: it holds if the middleware is removed or reordered, or if the
server hands Django a body longer than announced.
"""

from io import BytesIO

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler


class OversizedUpload(UploadedFile):
    """An upload cut off at the size limit: no content, only its name and how big it got."""

    def __init__(self, name, content_type, size, charset=None, content_type_extra=None):
        super().__init__(BytesIO(), name, content_type, size, charset, content_type_extra)


class LimitedUploadHandler(FileUploadHandler):
    def __init__(self, request=None):
        super().__init__(request)
        self.total = 0
        self.file_size = 0
        self.oversized = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > settings.MAX_REQUEST_SIZE:
            raise RequestDataTooBig("Request body exceeded settings.MAX_REQUEST_SIZE.")
        return None  # let the parser (and the next handlers) do the work

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.file_size = 0
        self.oversized = False

    def receive_data_chunk(self, raw_data, start):
        self.total += len(raw_data)
        if self.total > settings.MAX_REQUEST_SIZE:
            raise RequestDataTooBig("Uploaded files exceeded settings.MAX_REQUEST_SIZE.")
        self.file_size += len(raw_data)
        if self.file_size > settings.TICKET_MAX_FILE_SIZE:
            # Keep counting (the size goes into the message) but pass nothing on.
            self.oversized = True
            return None
        return raw_data

    def file_complete(self, file_size):
        if self.oversized:
            # The temporary-file handler will not be asked for its (truncated)
            # copy: close it now, which deletes it, rather than at request end.
            for handler in getattr(self.request, "upload_handlers", ()):
                partial = getattr(handler, "file", None)
                if handler is not self and partial is not None:
                    partial.close()
            return OversizedUpload(
                self.file_name,
                self.content_type,
                self.file_size,
                self.charset,
                self.content_type_extra,
            )
        return None  # the temporary-file handler has the file
