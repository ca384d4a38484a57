"""Settings: modules and parameters from casework.toml; bad settings stop start-up naming the key."""

from __future__ import annotations

from datetime import date

import pytest

from casework.errors import InvalidInput
from casework.services import settings


def test_defaults_put_every_built_in_module_in_force() -> None:
    names = [m.name for m in settings.Settings().rule_set().modules]
    assert names == sorted(
        [
            "academic_slide",
            "conduct",
            "core",
            "deadlines",
            "evaluation",
            "family_situation",
            "obligations",
            "psychological",
            "review",
            "school_care",
            "suspected_illegal",
        ]
    )


def test_a_county_switches_modules_and_thresholds(tmp_path) -> None:
    path = tmp_path / "casework.toml"
    path.write_text(
        '[rules]\nenabled = ["core", "academic_slide", "deadlines"]\n'
        "[rules.academic_slide]\nrank_drop = 5\npercent_drop = 10\n"
        '[calendar]\nterms = [{name = "2026秋", start = 2026-09-01, end = 2027-01-20}]\n',
        encoding="utf-8",
    )
    loaded = settings.load(str(path))
    rule_set = loaded.rule_set()
    assert [m.name for m in rule_set.modules] == ["core", "academic_slide", "deadlines"]
    assert rule_set.module("academic_slide").params == {
        "rank_drop": 5,
        "percent_drop": 10.0,
        "weak_subject_score": 60.0,
    }
    assert rule_set.calendar.term_of(date(2027, 1, 18)).name == "2026秋"
    assert rule_set.version != settings.Settings().rule_set().version


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[rules]\nenabled = ["core", "astrology"]\n', "astrology"),
        ('[rules.academic_slide]\nrank_drop = "ten"\n', "rules.academic_slide.rank_drop"),
        ("[rules.academic_slide]\nrank_drops = 3\n", "rank_drops"),
        ("[rules.deadlines]\nmentored = true\n", "rules.deadlines.mentored"),
        ("[colour]\nred = 1\n", "colour"),
        ("[calendar]\nholidays = []\n", "calendar.holidays"),
        ('[calendar]\nterms = [{name = "x", start = 2026-09-01}]\n', "calendar.terms[0].end"),
        ("[calendar]\nterms = [{start = 2027-09-01, end = 2026-01-01}]\n", "calendar.terms[0]"),
        ("[rules\n", "casework.toml"),
    ],
)
def test_bad_settings_name_the_key(tmp_path, text: str, key: str) -> None:
    path = tmp_path / "casework.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as error:
        settings.load(str(path))
    assert key in str(error.value)


def test_missing_named_file_is_an_error_but_no_file_is_the_default(tmp_path, monkeypatch) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        settings.load(str(tmp_path / "nope.toml"))
    monkeypatch.chdir(tmp_path)
    assert settings.load().source is None


def test_privacy_retention_days_default_and_override() -> None:
    assert settings.Settings().privacy.retention_days == 1095
    assert settings.parse({"privacy": {"retention_days": 365}}).privacy.retention_days == 365


@pytest.mark.parametrize(
    "privacy, key",
    [
        ({"retention_days": -1}, "privacy.retention_days"),
        ({"retention_days": "3y"}, "privacy.retention_days"),
        ({"retention_days": True}, "privacy.retention_days"),
        ({"keep": 1}, "privacy.keep"),
    ],
)
def test_bad_privacy_settings_name_the_key(privacy: dict, key: str) -> None:
    with pytest.raises(InvalidInput) as bad:
        settings.parse({"privacy": privacy})
    assert key in str(bad.value)


def test_the_password_hash_cost_is_a_setting_within_bounds() -> None:
    from casework.services.settings import parse

    web = parse({"web": {"password_time_cost": 2, "password_memory_kib": 19456}}).web
    assert (web.password_time_cost, web.password_memory_kib) == (2, 19456)
    assert parse({}).web.password_memory_kib == 65536  # the library's recommendation by default
    for bad in ({"password_time_cost": 0}, {"password_memory_kib": 512}, {"password_time_cost": True}):
        with pytest.raises(InvalidInput, match="web.password"):
            parse({"web": bad})
