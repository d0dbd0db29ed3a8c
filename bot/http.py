"""The bot's HTTP client: httpx, without the reference cycle each response carries.

httpx 0.28 links every response and its body stream both ways (encode/httpx#3733), so each
request leaves a few dozen objects that only the cyclic garbage collector frees. At a few
hundred requests a second (Bot API and panel), those collections ran every second or two
and stalled the event loop for 10-20 ms each time, delaying whichever answers were due.
Once the body has been read, the link is not needed: the response keeps its bytes.
"""

from __future__ import annotations

from typing import Any

import httpx


class AcyclicAsyncClient(httpx.AsyncClient):
    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = await super().send(request, **kwargs)
        if not kwargs.get("stream"):
            # The body was read and the stream closed: freed by reference counting from here.
            response.stream = httpx.ByteStream(response.content)
        return response
