"""Stage rules of item writes: pipeline/stage resolution, movedBy/previousStageId, and
stage-dependent required fields. Mixed into :class:`b24emu.crm.store.CrmStore`."""

from __future__ import annotations

from typing import Any

from b24emu.crm.entity import EntityView
from b24emu.crm.errors import FieldRequiredError, FieldValueError
from b24emu.crm.schema import LEAD


class StagesMixin:
    """Needs ``self.statuses``, ``self.categories`` and ``self.stage_requirements``."""

    statuses: Any
    categories: Any
    stage_requirements: list[dict[str, Any]]

    def require_on_stage(
        self, etid: int, field: str, stage_id: str, category_id: int | None = None
    ) -> None:
        """What an admin sets in the UI: ``field`` (camel or UPPER UF name) becomes required
        from ``stage_id`` on: that stage and every later one except failure stages."""
        self.stage_requirements.append(
            {"etid": int(etid), "category_id": category_id, "field": field, "stage_id": stage_id}
        )

    def _check_stage_required(
        self, view: EntityView, new: dict[str, Any], original_uf: bool
    ) -> None:
        cat = new.get("categoryId") if view.etid != LEAD else None
        target = self.statuses.stage(view.etid, cat, new["stageId"])
        if target is None or target["SEMANTICS"] == "F":
            return  # failure stages never demand fields (closing a lost item stays possible)
        for rule in self.stage_requirements:
            if rule["etid"] != view.etid or (
                rule["category_id"] is not None and rule["category_id"] != cat
            ):
                continue
            start = self.statuses.stage(view.etid, cat, rule["stage_id"])
            if start is None or target["SORT"] < start["SORT"]:
                continue
            key = view.internal_key(rule["field"], True) or view.internal_key(rule["field"], False)
            if key is not None and new.get(key) in (None, "", []):
                if key in view.ufs:
                    raise FieldRequiredError(key if original_uf else view.uf_camel[key])
                raise FieldRequiredError(key)

    def _pipeline(
        self,
        view: EntityView,
        new: dict[str, Any],
        given: set[str],
        user_id: int,
        now: float,
        previous: str | None,
    ) -> None:
        if view.has_categories:
            if new.get("categoryId") is None:
                new["categoryId"] = self.categories.default_id(view.etid) or 0
            if not self.categories.exists(view.etid, new["categoryId"]):
                raise FieldValueError("categoryId")
        if not view.has_stages:
            return
        cat = new.get("categoryId") if view.etid != LEAD else None
        stage_id = new.get("stageId")
        if stage_id is None or (
            "categoryId" in given
            and "stageId" not in given
            and not self.statuses.stage(view.etid, cat, stage_id)
        ):
            stage_id = self.statuses.first_stage(view.etid, cat)
        row = self.statuses.stage(view.etid, cat, stage_id)
        if row is None:
            raise FieldValueError("stageId")
        if stage_id != previous:
            new["movedBy"], new["movedTime"] = user_id, now
            if "previousStageId" in view.fields:
                new["previousStageId"] = previous
        new["stageId"] = stage_id
        new["stageSemanticId"] = self.statuses.semantic_id(row)
        if "closed" in view.fields:
            new["closed"] = "N" if new["stageSemanticId"] == "P" else "Y"
        if "dateClosed" in view.fields:
            new["dateClosed"] = (
                None if new["stageSemanticId"] == "P" else (new.get("dateClosed") or now)
            )
