"""Text normalisation shared by dedup, routing and the city tables."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalise_text"]

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_text(value: object) -> str:
    """Case-, space-, punctuation-insensitive form; ё→е; None → "".

    >>> normalise_text("  г. Казань,  ул. Ёлочная ")
    'г казань ул елочная'
    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).casefold().replace("ё", "е")
    return " ".join(_NON_WORD.sub(" ", text).split())
