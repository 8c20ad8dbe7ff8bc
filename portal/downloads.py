"""The one way the portal hands out a file: its name, attachment or inline, a cache rule, and its digest."""
from __future__ import annotations

import base64
import hashlib

from flask import Response


def file_response(data: bytes, filename: str, *, mimetype: str = "application/pdf", attachment: bool = True,
                  cache: str = "private, no-cache") -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'{"attachment" if attachment else "inline"}; filename="{filename}"'
    response.headers["Cache-Control"] = cache
    # RFC 9530: lets a client check that it received the bytes whose SHA-256 the portal shows.
    response.headers["Repr-Digest"] = f"sha-256=:{base64.b64encode(hashlib.sha256(data).digest()).decode()}:"
    return response
