"""The path prefix a gateway serves a service under (`X-Forwarded-Prefix: /booking`), as the ASGI `root_path`.

The gateway strips `/booking` before passing a request on; with the prefix as `root_path`, `/docs`
loads `/booking/openapi.json` and the document's first server is `/booking` (deploy/nginx/gateway.conf
sets the header on every request it passes, replacing any a caller sent). Only the docs page and the
document's servers read it: routing, request URLs, idempotency and cursors see the path as it came.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

# One or more plain path segments: anything else (a quote, a dot segment, a query) is ignored, so a
# caller who sends the header to a service directly cannot put script into its docs page.
PREFIX = re.compile(r"(/[A-Za-z0-9_-]{1,40}){1,4}")


class ForwardedPrefix:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            prefix = next((value.decode("latin-1") for key, value in scope["headers"] if key == b"x-forwarded-prefix"), "")
            # A path already under the prefix keeps it as a path: Starlette would strip it for routing.
            if PREFIX.fullmatch(prefix) and not scope["path"].startswith(prefix):
                scope = {**scope, "root_path": scope.get("root_path", "") + prefix}
        await self.app(scope, receive, send)
