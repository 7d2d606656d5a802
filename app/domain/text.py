"""Text normalisation shared by dedup, routing and the city tables."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalise_text", "mentions"]

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


def _stem(word: str) -> str:
    return word[: max(3, len(word) - 2)]


def mentions(answer: object, label: object) -> int:
    """How many words of ``label`` a free-text ``answer`` mentions (every word of the label
    must be there, else 0): words compared by their stems, so Russian endings differ.

    >>> mentions("Фартук из стекла", "Стекло"), mentions("техника наша, встроим полностью", "Наша, полностью")
    (1, 2)
    >>> mentions("наша, частично нет", "Наша, полностью"), mentions("", "Стекло")
    (0, 0)
    >>> mentions("столешница из искусственного камня", "Искусственный камень")
    2
    """
    words = normalise_text(answer).split()
    wanted = normalise_text(label).split()
    if not words or not wanted:
        return 0
    for want in wanted:
        stem = _stem(want)
        if not any(w.startswith(stem) or (len(w) > 2 and want.startswith(_stem(w))) for w in words):
            return 0
    return len(wanted)
