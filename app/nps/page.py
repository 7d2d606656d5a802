"""The survey page: a form a client fills on a phone (no Bitrix24 login, no script needed).

Three 0–10 scores from the seed (delivery, packaging, shelf life) and a comment. Rendered
with Jinja's autoescaping; :func:`parse` validates a submitted form (pure).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask import render_template_string

QUESTIONS = (
    ("delivery", "Доставка заказа"),
    ("packaging", "Целостность и надёжность упаковки"),
    ("shelf", "Сроки годности продукции"),
)
MAX_COMMENT = 2000

_PAGE = """<!doctype html>
<html lang="ru"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:34rem;padding:1rem;line-height:1.4}
fieldset{border:1px solid #ccd;border-radius:.5rem;margin:0 0 1rem;padding:.5rem .75rem}
legend{font-weight:600}.scale{display:flex;flex-wrap:wrap;gap:.25rem}
.scale label{display:inline-flex;flex-direction:column;align-items:center;min-width:2.4rem;
padding:.35rem 0;border:1px solid #ccd;border-radius:.4rem}
textarea{width:100%;min-height:6rem;box-sizing:border-box}
button{font-size:1.1rem;padding:.7rem 1.4rem;border-radius:.5rem}.err{color:#b00020}
</style></head><body>
<h1>{{ title }}</h1>
{% if message %}<p{% if error %} class="err"{% endif %}>{{ message }}</p>{% endif %}
{% if form %}
<p>Оцените, пожалуйста, от 0 (плохо) до 10 (отлично).</p>
<form method="post">
{% for name, label in questions %}
<fieldset><legend>{{ label }}</legend><div class="scale">
{% for n in range(11) %}<label><input type="radio" name="{{ name }}" value="{{ n }}" required
{% if values.get(name) == n|string %}checked{% endif %}>{{ n }}</label>{% endfor %}
</div></fieldset>
{% endfor %}
<label for="comment">Комментарий (необязательно)</label>
<textarea id="comment" name="comment" maxlength="{{ max_comment }}">{{ values.get('comment', '') }}</textarea>
<p><button type="submit">Отправить</button></p>
</form>
{% endif %}
</body></html>"""


@dataclass(frozen=True)
class Answers:
    delivery: int
    packaging: int
    shelf: int
    comment: str


class FormInvalid(ValueError):
    pass


def parse(form: Mapping[str, str]) -> Answers:
    """The three scores (integers 0–10, all required) and the comment (trimmed, ≤ 2000)."""
    scores = {}
    for name, label in QUESTIONS:
        raw = str(form.get(name) or "").strip()
        if not raw.isdigit() or not 0 <= int(raw) <= 10:
            raise FormInvalid(f"Поставьте оценку от 0 до 10: «{label}»")
        scores[name] = int(raw)
    comment = str(form.get("comment") or "").strip()
    if len(comment) > MAX_COMMENT:
        raise FormInvalid(f"Комментарий длиннее {MAX_COMMENT} знаков")
    return Answers(comment=comment, **scores)


def render(*, form: bool, message: str = "", error: bool = False, values=None) -> str:
    return render_template_string(
        _PAGE,
        title="Оценка поставки",
        form=form,
        message=message,
        error=error,
        questions=QUESTIONS,
        values=dict(values or {}),
        max_comment=MAX_COMMENT,
    )
