"""Uploads whose file name is too long for Django's multipart parser.

Django reads each part's headers in one chunk of 1,024 bytes and refuses the whole
request (400, everything typed lost) when a part's headers do not fit, which a file
name of a few hundred accented or Asian characters is enough for. This middleware
sits before anything reads ``request.POST`` (the CSRF check does) and rewrites such
a part's headers on the fly, while the body streams in: the name is shortened
(beginning, "…", end with the extension) and the part is marked, so that
``uploads.check_file`` refuses the file with a message and the form comes back with
what was typed. Nothing else in the body is touched; ordinary parts pass through
byte for byte.
"""

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MAX_TOTAL_HEADER_SIZE
from django.utils.http import parse_header_parameters

# Headers at most this long are left alone: well inside Django's chunk, whatever it
# counts besides the headers themselves.
LONGEST_KEPT_HEADER = MAX_TOTAL_HEADER_SIZE - 124
# A header block that has not ended by now is not a header a browser sends: passed on
# as it is, for Django to refuse.
LONGEST_REWRITTEN_HEADER = 64 * 1024
# The Content-Type parameter that tells uploads.check_file the name was shortened here.
NAME_TOO_LONG = "mesaayuda-nombre-largo"
_KEPT_START, _KEPT_END = 60, 20
_LONGEST_FIELD_NAME = 100
_UNSAFE_IN_QUOTES = re.compile(r'["\\\r\n]')
_READ_SIZE = 64 * 1024


def long_file_names(get_response: Callable) -> Callable:
    def middleware(request: HttpRequest) -> HttpResponse:
        content_type, params = parse_header_parameters(request.META.get("CONTENT_TYPE", ""))
        boundary = params.get("boundary", "")
        if request.method == "POST" and content_type == "multipart/form-data" and boundary:
            request._stream = HeaderShortener(request._stream, boundary.encode("ascii", "ignore"))
        return get_response(request)

    return middleware


class HeaderShortener:
    """A read-only stream: the multipart body with over-long part headers rewritten."""

    def __init__(self, stream, boundary: bytes):
        self._stream = stream
        self._delimiter = b"--" + boundary + b"\r\n"
        self._in = b""  # read from the stream, not yet looked at
        self._out = b""  # looked at, ready to hand out
        self._in_headers = False
        self._eof = False

    def read(self, size: int = -1) -> bytes:
        while not self._eof and (size is None or size < 0 or len(self._out) < size):
            self._fill()
        if size is None or size < 0:
            data, self._out = self._out, b""
        else:
            data, self._out = self._out[:size], self._out[size:]
        return data

    def readline(self, size: int = -1) -> bytes:
        # Django drains what is left of a body line by line once it has what it needs.
        while b"\n" not in self._out and not self._eof:
            self._fill()
        end = self._out.find(b"\n") + 1 or len(self._out)
        if size is not None and size >= 0:
            end = min(end, size)
        data, self._out = self._out[:end], self._out[end:]
        return data

    def _fill(self) -> None:
        chunk = self._stream.read(_READ_SIZE)
        if not chunk:
            self._eof = True
            self._out += self._in
            self._in = b""
        else:
            self._in += chunk
            self._scan()

    def _scan(self) -> None:
        while True:
            if self._in_headers:
                end = self._in.find(b"\r\n\r\n")
                if end == -1:
                    if len(self._in) <= LONGEST_REWRITTEN_HEADER:
                        return  # wait for the rest of the headers
                    self._out += self._in
                    self._in = b""
                    self._in_headers = False
                    return
                header, self._in = self._in[:end], self._in[end:]
                if len(header) > LONGEST_KEPT_HEADER:
                    header = shortened(header)
                self._out += header
                self._in_headers = False
            else:
                start = self._in.find(self._delimiter)
                if start == -1:
                    # Keep what could be the start of a delimiter cut by the chunk's end.
                    keep = len(self._delimiter) - 1
                    cut = max(0, len(self._in) - keep)
                    self._out += self._in[:cut]
                    self._in = self._in[cut:]
                    return
                cut = start + len(self._delimiter)
                self._out += self._in[:cut]
                self._in = self._in[cut:]
                self._in_headers = True


def shortened(header: bytes) -> bytes:
    """A file part's headers with a name short enough to parse, marked NAME_TOO_LONG."""
    field = filename = None
    for line in header.split(b"\r\n"):
        try:
            value, params = parse_header_parameters(line.decode("utf-8", "replace"))
        except ValueError:
            continue
        if value.lower().startswith("content-disposition:"):
            field, filename = params.get("name"), params.get("filename")
    if field is None or filename is None or len(field) > _LONGEST_FIELD_NAME:
        return header  # not one of our file fields: let Django refuse it
    filename = _UNSAFE_IN_QUOTES.sub("", filename)
    if len(filename) > _KEPT_START + _KEPT_END:
        filename = filename[:_KEPT_START] + "…" + filename[-_KEPT_END:]
    field = _UNSAFE_IN_QUOTES.sub("", field)
    return (
        f'Content-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        f"Content-Type: application/octet-stream; {NAME_TOO_LONG}=1"
    ).encode()
