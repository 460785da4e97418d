"""Read a request body without ever holding more than a limit in memory.

Sanic would read a body of up to 100 MB before a handler sees it; a route declared with
``stream=True`` reads it here instead, and stops at the limit.
"""

from __future__ import annotations

from sanic.exceptions import PayloadTooLarge
from sanic.request import Request

from channels.limits import Refused


async def read_limited(request: Request, limit: int) -> bytes:
    """The raw body; Refused(413) as soon as it is known to be over `limit` bytes."""
    too_big = Refused(413, f"body over {limit} bytes")
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            declared_size = int(declared)
        except ValueError as error:
            raise Refused(400, "bad Content-Length") from error
        if declared_size > limit:
            raise too_big
    stream = request.stream
    if stream is None:  # body already read by the framework
        if len(request.body) > limit:
            raise too_big
        return bytes(request.body)
    # Sanic drains any unread body after the response; don't let it read past this.
    stream.request_max_size = min(stream.request_max_size, limit + 1)
    chunks = []
    size = 0
    try:
        while True:
            chunk = await stream.read()
            if chunk is None:
                break
            size += len(chunk)
            if size > limit:
                raise too_big
            chunks.append(chunk)
    except PayloadTooLarge as error:
        raise too_big from error
    return b"".join(chunks)
