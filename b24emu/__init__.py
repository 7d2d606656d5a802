"""b24emu: an offline Bitrix24 portal that speaks the real REST wire protocol.

A separate package: it never imports ``app`` (and ``app`` never imports it).
See ``b24emu/README.md`` for running it and for the ``/_emu/`` admin surface.
"""
