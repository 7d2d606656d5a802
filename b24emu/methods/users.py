"""``user.current``, ``user.get`` and ``department.get`` over ``portal.users`` /
``portal.departments`` (seeded by the portal factory in ``user.get`` shape)."""

from __future__ import annotations

from typing import Any

from b24emu import listing
from b24emu.registry import Call, ListPage, RestError, method

_HIDDEN = ("ADMIN",)  # core-only keys, never printed
_DEFAULTS = {
    "ACTIVE": True,
    "NAME": "",
    "LAST_NAME": "",
    "SECOND_NAME": "",
    "EMAIL": "",
    "LAST_LOGIN": "",
    "DATE_REGISTER": "",
    "IS_ONLINE": "N",
    "LAST_ACTIVITY_DATE": "",
    "PERSONAL_GENDER": "",
    "PERSONAL_BIRTHDAY": "",
    "WORK_POSITION": "",
    "UF_EMPLOYMENT_DATE": "",
    "UF_DEPARTMENT": [],
    "USER_TYPE": "employee",
    "TIME_ZONE": "",
}
_FILTER_ALIASES = {"NAME_SEARCH", "FIND"}


def render_user(uid: int, user: dict[str, Any]) -> dict[str, Any]:
    out = {"ID": str(uid), **_DEFAULTS}
    out.update({k: v for k, v in user.items() if k not in _HIDDEN})
    out["ID"] = str(uid)
    out["UF_DEPARTMENT"] = [int(d) for d in out.get("UF_DEPARTMENT") or []]
    return out


@method("user.current", scope="user|user_brief|user_basic")
def user_current(call: Call) -> dict[str, Any]:
    user = call.portal.users.get(call.auth.user_id)
    if user is None:
        raise RestError("ERROR_CORE", "User not found")
    return render_user(call.auth.user_id, user)


def _matches_search(user: dict[str, Any], text: str) -> bool:
    text = text.lower()
    return any(
        text in str(user.get(k) or "").lower()
        for k in ("NAME", "LAST_NAME", "EMAIL", "WORK_POSITION")
    )


@method("user.get", scope="user|user_brief|user_basic")
def user_get(call: Call) -> ListPage:
    flt = call.param("FILTER") or call.param("filter")
    if not isinstance(flt, dict):
        # legacy: filter keys may be given at the top level
        skip = {"SORT", "ORDER", "ADMIN_MODE", "SELECT", "IMAGE_RESIZE", "START"}
        flt = {k: v for k, v in call.params.items() if str(k).upper() not in skip}
    flt = {str(k).upper(): v for k, v in flt.items()}
    search = next((flt.pop(k) for k in list(flt) if k in _FILTER_ALIASES), None)
    if "ACTIVE" in flt:
        flt["ACTIVE"] = str(flt["ACTIVE"]).upper() in ("Y", "TRUE", "1")
    if "ID" in flt and not isinstance(flt["ID"], list):
        flt["ID"] = str(flt["ID"])
    rows = [render_user(uid, u) for uid, u in sorted(call.portal.users.items())]
    if search:
        rows = [r for r in rows if _matches_search(r, str(search))]
    if "UF_DEPARTMENT" in flt:
        wanted = flt.pop("UF_DEPARTMENT")
        wanted_set = {int(w) for w in (wanted if isinstance(wanted, list) else [wanted])}
        rows = [r for r in rows if wanted_set & set(r["UF_DEPARTMENT"])]
    rows = listing.filter_rows(rows, flt)
    sort = call.param("sort")
    if sort:
        rows = listing.order_rows(rows, {str(sort).upper(): call.param("order") or "ASC"})
    page = listing.page(rows, call.param("start"))
    return _selected(page, call.param("select") or call.param("SELECT"))


def _selected(page: ListPage, select: Any) -> ListPage:
    """``select`` (api-reference/user/user-get.md): only the named fields; ``*`` = all,
    ``UF_*`` = every custom field; unknown names are skipped without an error."""
    if isinstance(select, str):
        select = [select]
    if not isinstance(select, list | tuple) or not select:
        return page
    wanted = {str(s).upper() for s in select}
    if "*" in wanted:
        return page
    page.result = [
        {k: v for k, v in row.items() if k in wanted or ("UF_*" in wanted and k.startswith("UF_"))}
        for row in page.result
    ]
    return page


@method("department.get", scope="department")
def department_get(call: Call) -> ListPage:
    keys = ("ID", "NAME", "SORT", "PARENT", "UF_HEAD")
    flt = {key: call.param(key) for key in keys if call.param(key) not in (None, "")}
    rows = []
    for dep in sorted(call.portal.departments.values(), key=lambda d: int(d["ID"])):
        row = {
            "ID": str(dep["ID"]),
            "NAME": dep.get("NAME", ""),
            "SORT": int(dep.get("SORT") or 500),
        }
        if dep.get("PARENT"):
            row["PARENT"] = str(dep["PARENT"])
        if dep.get("UF_HEAD"):
            row["UF_HEAD"] = str(dep["UF_HEAD"])
        rows.append(row)
    for key, value in flt.items():
        rows = [r for r in rows if str(r.get(key, "")) == str(value)]
    sort = call.param("sort")
    if sort:
        rows = listing.order_rows(rows, {str(sort).upper(): call.param("order") or "ASC"})
    page = listing.page(rows, call.param("start"))
    return _selected(page, call.param("select") or call.param("SELECT"))
