"""Metal «Объект» tools: the duplicate index over the mirror (``index``) and the merge
service with its journal (``merge``). The pure parts live in ``app.domain.dedup`` and
``app.domain.merge``."""
