"""The default kitchens ABC model (settings format of :func:`model_from_dict`).

The seed names the questions but publishes no weights: these points are our reading — richer
materials, bigger layouts and own appliances raise finance and potential; new-build flats,
urgency and professional buyers raise seriousness. Portals tune them through settings.
"""

from __future__ import annotations

from app.domain.scoring_model import COEFFICIENTS, model_from_dict

__all__ = ["DEFAULT_MODEL_DATA", "DEFAULT_MODEL"]


def _pts(s: int = 0, f: int = 0, p: int = 0, price: int = 0) -> dict[str, object]:
    points = {k: v for k, v in zip(COEFFICIENTS, (s, f, p), strict=True) if v}
    return {"points": points, "price": price} if price else {"points": points}


DEFAULT_MODEL_DATA: dict[str, object] = {
    "weights": {"seriousness": 1, "finance": 1, "potential": 1},
    "thresholds": {"A": "0.65", "B": "0.4"},
    "budget_question": "budget",
    "questions": {
        "budget": {
            "label": "Бюджет",
            "kind": "number",
            "bands": [
                [0, _pts(1, 1, 0)],
                [100000, _pts(2, 2, 1)],
                [250000, _pts(2, 3, 2)],
                [500000, _pts(3, 4, 3)],
            ],
        },
        "material": {
            "label": "Материал",
            "options": {
                "ЛДСП": _pts(0, 1, 1),
                "Пластик": _pts(0, 2, 2),
                "МДФ": _pts(0, 2, 2),
                "Эмаль": _pts(0, 3, 3),
                "Массив": _pts(0, 3, 3),
            },
        },
        "house_type": {
            "label": "Тип дома",
            "options": {
                "Новостройка": _pts(3, 0, 2),
                "Вторичное жильё": _pts(2, 0, 1),
                "Частный дом": _pts(2, 2, 3),
                "Дача": _pts(1, 0, 1),
            },
        },
        "kitchen_type": {
            "label": "Тип кухни",
            "options": {
                "Прямая": _pts(0, 0, 1, 150000),
                "Угловая": _pts(0, 0, 2, 220000),
                "П-образная": _pts(0, 1, 3, 300000),
                "С островом": _pts(0, 2, 3, 400000),
            },
        },
        "countertop": {
            "label": "Материал столешницы",
            "options": {
                "ЛДСП": _pts(),
                "Дерево": _pts(0, 1, 1),
                "Искусственный камень": _pts(0, 2, 2),
                "Кварц": _pts(0, 3, 2),
                "Натуральный камень": _pts(0, 3, 3),
            },
        },
        "apron": {
            "label": "Фартук",
            "options": {
                "Нет": _pts(),
                "Стеновая панель": _pts(0, 0, 1),
                "Плитка": _pts(0, 0, 1),
                "Стекло": _pts(0, 1, 2),
                "Камень": _pts(0, 2, 2),
            },
        },
        "appliances": {
            "label": "Встроенная техника",
            "options": {
                "Нет": _pts(),
                "Своя": _pts(1, 0, 0),
                "Наша, частично": _pts(1, 1, 2, 80000),
                "Наша, полностью": _pts(2, 2, 3, 200000),
            },
        },
        "buyer_category": {
            "label": "Категория покупателя",
            "options": {
                "Для себя": _pts(2, 0, 1),
                "Для сдачи в аренду": _pts(1, 0, 0),
                "Дизайнер или прораб": _pts(2, 0, 3),
                "Застройщик": _pts(3, 3, 3),
            },
        },
        "urgency": {
            "label": "Срочность",
            "options": {
                "Срочно, до месяца": _pts(3, 0, 0),
                "1–3 месяца": _pts(2, 0, 0),
                "Более 3 месяцев": _pts(1, 0, 0),
                "Просто смотрю": _pts(),
            },
        },
    },
}
DEFAULT_MODEL = model_from_dict(DEFAULT_MODEL_DATA)
