"""What an answered survey changes on the portal. Pure.

The deal gets the three scores, their rounded mean as «NPS: оценка 0–10» and the comment;
the deal's contact gets the same answers (the client's latest survey); a score at or below
``nps_low_score`` gives the manager's head a task to handle the negative (seed 003: «правила
его обработки для сохранения заказчиков»), due the next working day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from app.rules import actions as A
from app.rules.work_plan import calendar

LABELS = {"delivery": "доставка", "packaging": "упаковка", "shelf": "срок годности"}


def head_of(
    user_id: int, departments: Mapping[str, Mapping[str, Any]], users: Iterable[Mapping]
) -> int | None:
    """The head of ``user_id``'s department; for a head, the head of the department above."""
    user = next((u for u in users if str(u.get("ID")) == str(user_id)), None)
    for dep in (user or {}).get("UF_DEPARTMENT") or []:
        current = departments.get(str(dep))
        while current is not None:
            head = current.get("UF_HEAD")
            if head not in (None, "", "0") and str(head) != str(user_id):
                return int(head)
            current = departments.get(str(current.get("PARENT") or ""))
    return None


def actions(
    answer: Any,
    deal: Mapping[str, Any],
    settings: Mapping[str, Any],
    head: int | None,
    now: datetime,
) -> list[A.Action]:
    scores = {"delivery": answer.delivery, "packaging": answer.packaging, "shelf": answer.shelf}
    mean = round(sum(scores.values()) / 3)
    fields = {
        "UF_CRM_B2B_NPS_DELIVERY": answer.delivery,
        "UF_CRM_B2B_NPS_PACKAGING": answer.packaging,
        "UF_CRM_B2B_NPS_SHELF": answer.shelf,
        "UF_CRM_B2B_NPS_COMMENT": answer.comment,
    }
    deal_id = int(deal["id"])
    out: list[A.Action] = [
        A.UpdateFields("deal", deal_id, {**fields, "UF_CRM_B2B_NPS_SCORE": mean}, key="deal")
    ]
    contact = deal.get("contactId")
    if contact not in (None, "", 0, "0"):
        out.append(A.UpdateFields("contact", int(contact), fields, key="contact"))
    low = {k: v for k, v in scores.items() if v <= int(settings.get("nps_low_score", 6))}
    if low and head:
        marks = ", ".join(f"{LABELS[k]} {v}" for k, v in low.items())
        title = deal.get("title") or deal_id
        out.append(
            A.CreateTask(
                f"Низкая оценка клиента: {title}",
                int(head),
                deadline=calendar(settings).add_working(now, 1),
                description=(
                    f"Клиент оценил первую поставку: {marks}."
                    + (f"\nКомментарий: {answer.comment}" if answer.comment else "")
                    + "\nСвяжитесь с клиентом, выясните причину и договоритесь, как исправить."
                ),
                checklist=(
                    "Позвонить клиенту",
                    "Выяснить причину оценки",
                    "Согласовать меры с менеджером",
                    "Записать итог в сделку",
                ),
                bind_to=("deal", deal_id),
                auditors=(int(deal["assignedById"]),) if deal.get("assignedById") else (),
                priority=2,
                key="low_score",
                tag="b2b.nps_low",
            )  # fmt: skip
        )
    return out
