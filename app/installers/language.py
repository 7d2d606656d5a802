"""The language the installer names things in: the portal's, as it was at install time.

Every playbook declares its names in Russian and English (``app.playbooks.schema.Text``).
User-field labels are sent with both (``EDIT_FORM_LABEL`` and friends take a per-language
map: api-reference/crm/universal/userfieldconfig/userfieldconfig-add.md, "lang_map"), but a
stage, a pipeline, a smart process title, a list value and a placement's TITLE have one name
— it is taken in the portal's language. That language comes from ``app.info``'s
``LANGUAGE_ID`` (api-reference/common/system/app-info.md) verified at install, else the
install form's ``LANG`` query parameter; Russian when neither says.

Portals in the Russian-speaking zone (``ru``, ``ua``, ``by``, ``kz``) get Russian; any other
language gets English, the app's only other language.
"""

from __future__ import annotations

RU, EN = "ru", "en"
DEFAULT = RU
_RUSSIAN_ZONE = frozenset({"ru", "ua", "by", "kz"})


def portal_language(*answers: object) -> str:
    """``ru`` or ``en`` from the first non-empty language code in ``answers``."""
    for answer in answers:
        text = str(answer or "").strip().lower()
        if text:
            return RU if text[:2] in _RUSSIAN_ZONE else EN
    return DEFAULT


def installed_language(session, member_id: str) -> str:
    """The language stored with the installation (Russian for older installations)."""
    from app.store import installations

    row = installations.get(session, member_id)
    stored = getattr(row, "lang", None) if row is not None else None
    return stored if stored in (RU, EN) else DEFAULT
