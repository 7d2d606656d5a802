from decimal import Decimal

import pytest

from app.domain.scoring import calibrate, classify, score
from app.domain.scoring_default import DEFAULT_MODEL, DEFAULT_MODEL_DATA
from app.domain.scoring_model import model_from_dict, validate_model

D = Decimal
FULL = {
    "budget": "300 000 руб.",
    "material": "  мдф ",
    "house_type": "Новостройка",
    "kitchen_type": "Угловая",
    "countertop": "Кварц",
    "apron": "Стекло",
    "appliances": ["Своя", "Наша, частично"],
    "buyer_category": "Для себя",
    "urgency": "1–3 месяца",
}


def test_default_model_is_valid_and_its_maxima():
    assert validate_model(DEFAULT_MODEL) == []
    assert [DEFAULT_MODEL.max_points(c) for c in ("seriousness", "finance", "potential")] == [
        D(14),
        D(21),
        D(23),
    ]


def test_hand_computed_full_answer_set():
    r = score(FULL)
    # S: budget 2 + house 3 + appliances 1 + buyer 2 + urgency 2 = 10/14
    # F: budget 3 + МДФ 2 + кварц 3 + стекло 1 + техника 1 = 10/21
    # P: 2+2+2+2+2+2+2 (budget..appliances) + buyer 1 = 15/23
    assert r.coefficients == {
        "seriousness": D("0.71"),
        "finance": D("0.48"),
        "potential": D("0.65"),
    }
    assert r.total == D("0.61")  # (0.71 + 0.48 + 0.65) / 3
    assert r.klass == "B"
    assert r.expected_sum == D(300000)
    assert r.short() == "B (С0,71 Ф0,48 П0,65)"
    assert r.notes == ()
    moved = {(c.question, c.coefficient): c.points for c in r.contributions}
    assert moved[("appliances", "potential")] == D(2)  # the better of the two answers counted
    assert ("material", "seriousness") not in moved
    assert sum(c.points for c in r.contributions if c.coefficient == "finance") == D(10)


def test_expected_sum_from_prices_without_budget():
    r = score({"kitchen_type": "угловая", "appliances": "Наша, полностью"})
    assert r.expected_sum == D(420000)
    assert score({}).expected_sum is None


def test_empty_answers_are_class_c_with_notes():
    r = score({})
    assert r.klass == "C" and r.total == D(0)
    assert len(r.notes) == len(DEFAULT_MODEL.questions)
    assert all("нет ответа" in n for n in r.notes)


@pytest.mark.parametrize(
    "answers, note",
    [
        ({"budget": "-5"}, "отрицательное"),
        ({"budget": "много"}, "не число"),
        ({"material": "дуб"}, "неизвестный вариант «дуб»"),
        ({"colour": "red"}, "вне модели"),
    ],
)
def test_odd_values_become_notes(answers, note):
    r = score(answers)
    assert any(note in n for n in r.notes)
    assert r.total == D(0)


def test_budget_bands_and_number_strings():
    assert score({"budget": "12,5"}).coefficients["finance"] == (D(1) / 21).quantize(D("0.01"))
    assert score({"budget": 499999.99}).coefficients["finance"] == (D(3) / 21).quantize(D("0.01"))
    assert score({"budget": "500 000"}).coefficients["finance"] == (D(4) / 21).quantize(D("0.01"))
    assert score({"budget": "12,5"}).expected_sum == D("12.5")


def test_maximal_answers_reach_class_a_with_total_one():
    best = {
        "budget": 1_000_000,
        "material": "Массив",
        "house_type": "Частный дом",
        "kitchen_type": "С островом",
        "countertop": "Натуральный камень",
        "apron": "Камень",
        "appliances": "Наша, полностью",
        "buyer_category": "Застройщик",
        "urgency": "Срочно, до месяца",
    }
    r = score(best)
    # Max seriousness needs Новостройка (3) but that loses finance/potential; 13/14 here.
    assert r.coefficients["finance"] == D("1.00") and r.coefficients["potential"] == D("1.00")
    assert r.coefficients["seriousness"] == D("0.93")
    assert r.klass == "A"


def test_classify_boundaries():
    assert classify(D("0.65"), DEFAULT_MODEL) == "A"
    assert classify(D("0.64"), DEFAULT_MODEL) == "B"
    assert classify(D("0.40"), DEFAULT_MODEL) == "B"
    assert classify(D("0.39"), DEFAULT_MODEL) == "C"


def test_validate_model_reports_problems():
    data = {
        "weights": {"seriousness": 1, "finance": 0, "potential": 0, "luck": 1},
        "thresholds": {"A": "0.3", "B": "0.5"},
        "budget_question": "budget",
        "questions": {
            "q": {"label": "Вопрос", "options": {"да": {"points": {"charm": 1}}, "Да ": {}}},
            "n": {"label": "Пусто", "options": {}},
        },
    }
    problems = validate_model(model_from_dict(data))
    text = "\n".join(problems)
    for fragment in (
        "0 < B < A",
        "luck",
        "повторяются",
        "charm",
        "нет вариантов",
        "«серьёзность» не получает",
        "бюджета «budget» не найден",
    ):
        assert fragment in text, fragment


def tiny_model():
    # One question, seriousness only; levels give totals 0, 0.33, 0.67, 1.00.
    options = {
        name: {"points": {"seriousness": pts}}
        for name, pts in (("l0", 0), ("l1", 1), ("l2", 2), ("l3", 3))
    }
    return model_from_dict(
        {
            "weights": {"seriousness": 1, "finance": 0, "potential": 0},
            "thresholds": {"A": "0.65", "B": "0.4"},
            "budget_question": None,
            "questions": {"q": {"label": "Уровень", "options": options}},
        }
    )


def test_calibrate_hand_computed():
    model = tiny_model()
    assert validate_model(model) == []
    rows = (
        [({"q": "l3"}, True)] * 2
        + [({"q": "l2"}, True)] * 2
        + [({"q": "l2"}, False)]
        + [({"q": "l1"}, False)] * 2
        + [({"q": "l0"}, False)] * 3
    )
    cal = calibrate(rows, model)
    assert [(s.klass, s.count, s.won) for s in cal.current] == [
        ("A", 5, 4),
        ("B", 0, 0),
        ("C", 5, 0),
    ]
    assert cal.current[1].win_rate is None
    # Between-class spread: (b=.33,a=.67) 1.6; (b=.33,a=1) 1.2; (b=.67,a=1) 1.733 → best.
    assert (cal.suggested_a, cal.suggested_b) == (D("1.00"), D("0.67"))
    assert [(s.count, s.won) for s in cal.suggested] == [(2, 2), (3, 2), (5, 0)]
    assert cal.suggested[1].win_rate == D("0.67")
    assert model.threshold_a == D("0.65")  # untouched
    assert model.with_thresholds(cal.suggested_a, cal.suggested_b).threshold_b == D("0.67")


def test_calibrate_with_too_little_data():
    model = tiny_model()
    assert calibrate([], model).suggested_a is None
    few = calibrate([({"q": "l3"}, True), ({"q": "l0"}, False)], model)
    assert few.suggested_a is None and few.notes
    big = calibrate(
        [({"q": "l3"}, True)] * 2 + [({"q": "l2"}, True), ({"q": "l0"}, False)],
        model,
        min_class_size=2,
    )
    assert big.suggested_a is None


def test_default_data_round_trips_through_settings_format():
    assert model_from_dict(DEFAULT_MODEL_DATA) == DEFAULT_MODEL


def test_free_text_answers_score_like_the_options_they_name():
    """Seed 002: the apron, appliances and countertop are typed in by hand («какой фартук,
    чья техника»); the ABC score reads them too, not only exact list values."""
    from app.domain.scoring import score as score_answers

    typed = {
        "countertop": "Столешница из искусственного камня",
        "apron": "да, стеклянный? нет — стекло, скинали",
        "appliances": "техника наша, встраиваем полностью",
    }
    exact = {
        "countertop": "Искусственный камень",
        "apron": "Стекло",
        "appliances": "Наша, полностью",
    }
    got, want = score_answers(typed), score_answers(exact)
    assert got.coefficients == want.coefficients
    assert not [n for n in got.notes if "неизвестный вариант" in n]
    # text naming nothing the model knows is still reported, not guessed
    odd = score_answers({"apron": "пока не решили"})
    assert any("неизвестный вариант «пока не решили»" in n for n in odd.notes)
