"""``flask --app wsgi b24 kitchens calibrate --portal M`` — how well the ABC classes separate.

Reads the portal's closed leads from the mirror — won = «Ура, согласие получено», lost =
«Не успешный» (or the shared junk stage) — scores each with the portal's current model
(settings ``abc_model`` / ``abc_weights`` / ``abc_thresholds``) and prints, per class, how
many leads and how many were won under the current thresholds, plus the thresholds that
would separate them best (``app.domain.scoring.calibrate``). It never changes settings:
apply a suggestion with the settings tools if it convinces you.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from app.cli.common import portal_option
from app.domain.scoring import Calibration, calibrate
from app.domain.scoring_model import ScoringModel

group = click.Group("kitchens", help="kitchens: ABC qualification tools")
JUNK = "JUNK"


def closed_leads(
    records: Iterable[Mapping[str, Any]], schema: Any
) -> list[tuple[dict[str, Any], bool]]:
    """(answers, won) of every won or lost lead among normalised lead snapshots."""
    from app.playbooks.kitchens.rules_control import AGREED, LOST, own_stage
    from app.playbooks.kitchens.rules_scoring import answers_of
    from app.robots.labels import enum_labels

    labels = enum_labels(schema, ("kitchens",), "lead")
    out = []
    for record in records:
        raw = str(record.get("stageId") or "")
        stage = own_stage(schema, raw)
        if stage == AGREED:
            out.append((answers_of(record, labels), True))
        elif stage == LOST or raw.endswith(JUNK):
            out.append((answers_of(record, labels), False))
    return out


def report(result: Calibration, model: ScoringModel, total: int) -> dict[str, Any]:
    """A plain summary (printed as text or JSON)."""

    def rows(stats) -> list[dict[str, Any]]:
        return [
            {
                "class": s.klass,
                "leads": s.count,
                "won": s.won,
                "win_rate": None if s.win_rate is None else float(s.win_rate),
            }
            for s in stats
        ]

    return {
        "closed_leads": total,
        "thresholds": {"A": float(model.threshold_a), "B": float(model.threshold_b)},
        "current": rows(result.current),
        "suggested_thresholds": None
        if result.suggested_a is None
        else {"A": float(result.suggested_a), "B": float(result.suggested_b)},
        "suggested": rows(result.suggested),
        "notes": list(result.notes),
    }


def _text(summary: dict[str, Any]) -> str:
    lines = [
        f"Закрытых лидов: {summary['closed_leads']}; пороги A ≥ {summary['thresholds']['A']}, "
        f"B ≥ {summary['thresholds']['B']}"
    ]
    for title, key in (("Сейчас", "current"), ("С предложенными порогами", "suggested")):
        if summary[key]:
            lines.append(f"{title}:")
            for r in summary[key]:
                rate = "—" if r["win_rate"] is None else f"{r['win_rate']:.0%}"
                lines.append(f"  {r['class']}: {r['leads']} лидов, выиграно {r['won']} ({rate})")
    if summary["suggested_thresholds"]:
        s = summary["suggested_thresholds"]
        lines.append(f"Предложение: A ≥ {s['A']}, B ≥ {s['B']} (настройки не изменены)")
    lines.extend(summary["notes"])
    return "\n".join(lines)


@group.command("calibrate")
@portal_option()
@click.option("--min-class-size", default=3, show_default=True, type=click.IntRange(1))
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@with_appcontext
def calibrate_command(member_id: str, min_class_size: int, as_json: bool) -> None:
    """Report class separation of closed leads and suggest thresholds (read-only)."""
    from app.playbooks.kitchens.rules_scoring import model_for
    from app.rules.changes import normalize
    from app.store import mirror
    from app.store.installations import InstallationNotFound
    from app.sync.context import portal_context

    services = current_app.extensions["services"]
    try:
        ctx = portal_context(services, member_id)
    except InstallationNotFound as exc:
        raise click.ClickException(f"no installation with member_id {member_id!r}") from exc
    settings = ctx.settings.get("kitchens")
    if settings is None:
        raise click.ClickException(f"kitchens is not installed on {member_id!r}")
    try:
        model = model_for(settings)
    except (KeyError, ValueError, ArithmeticError) as exc:
        raise click.ClickException(f"abc_model setting is malformed: {exc}") from exc
    with services.session() as session:
        snapshots = [
            normalize("lead", row.data, ctx.naming)
            for row in mirror.records(session, member_id, "lead")
        ]
    closed = closed_leads([s for s in snapshots if s], ctx.naming)
    summary = report(calibrate(closed, model, min_class_size=min_class_size), model, len(closed))
    click.echo(json.dumps(summary, ensure_ascii=False) if as_json else _text(summary))


def register(parent: click.Group) -> None:
    parent.add_command(group)
