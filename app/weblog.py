"""Gunicorn's logger with the app's redaction (``gunicorn.conf.py`` sets ``logger_class``).

The access log prints the request line, query string included: a frame opened with
``?AUTH_ID=…`` or a webhook path ``/rest/1/<code>/`` would land there in clear. Both of
gunicorn's loggers get :class:`config.logging.RedactingFilter`, the filter every app log
record passes, so the access and error logs are scrubbed exactly like the app's own.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from config.logging import RedactingFilter


class RedactingGunicornLogger(Logger):
    """``gunicorn.glogging.Logger`` whose access and error records are redacted."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for logger in (self.access_log, self.error_log):
            if not any(isinstance(f, RedactingFilter) for f in logger.filters):
                logger.addFilter(RedactingFilter())
