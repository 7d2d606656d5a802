"""What a fresh install cannot guess (issue #24 "every playbook … where it cannot, the install
summary and the settings say exactly what to fill")."""

from app.playbooks import NAMES, load
from app.playbooks.settings import defaults
from app.playbooks.setup import NEEDED, what_to_fill


def test_every_needed_setting_is_a_declared_one_empty_by_default():
    for name in NAMES:
        keys = {s.key for s in load(name).settings}
        for key, _what, _effect in NEEDED.get(name, ()):
            assert key in keys, f"{name}: {key} is not declared"
            assert what_to_fill(name, {key: defaults(name)[key]}), f"{name}: {key} has a value"


def test_a_fresh_furniture_install_is_told_what_to_fill_and_a_filled_one_is_not():
    fresh = what_to_fill("furniture", defaults("furniture"))
    assert len(fresh) == 3
    assert any("«city_admins»" in line and "передать вручную" in line for line in fresh)
    filled = {**defaults("furniture"), "city_admins": {"Москва": 5}, "store_managers": {"Москва": 6},
              "online_consultant_id": 4}  # fmt: skip
    assert what_to_fill("furniture", filled) == []
    assert what_to_fill("b2b", defaults("b2b")) == []
