"""Kitchens training mode, pure: the hint and instruction link of each stage."""

from __future__ import annotations

from app.playbooks.kitchens import training as T


def test_each_stage_has_a_hint_and_settings_replace_it_or_add_a_link():
    assert T.hint_for("kitchens.lead.assigned", {}) == (T.HINTS["kitchens.lead.assigned"], "")
    links = {"kitchens.lead.proposal": "https://wiki.example.ru/kp"}
    hint, link = T.hint_for("kitchens.lead.proposal", {"training_links": links})
    assert hint == T.HINTS["kitchens.lead.proposal"] and link == "https://wiki.example.ru/kp"
    own = {"kitchens.lead.proposal": "Позвоните через час после отправки КП."}
    assert (
        T.hint_for("kitchens.lead.proposal", {"training_hints": own})[0]
        == own["kitchens.lead.proposal"]
    )
    assert T.hint_for("metal.lead.unprocessed", {"training_links": links}) == ("", "")
    assert all(T.HINTS[s] for s in T.HINTS)  # every kitchens stage says something
