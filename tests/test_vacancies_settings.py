"""VACANCIES_* settings: working defaults, and errors that say what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.settings import (
    DEFAULT_VACANCIES_FEED,
    PROJECT_ROOT,
    Settings,
    SettingsError,
    VacancySettings,
)


def test_defaults_read_the_sample_feed():
    settings = VacancySettings.from_env({})
    assert settings.url == str(DEFAULT_VACANCIES_FEED) and DEFAULT_VACANCIES_FEED.is_file()
    assert settings.format == "jobposting"
    assert settings.timeout_s == 5.0
    assert settings.cache_ttl_s == 300.0
    assert not settings.is_remote


def test_a_full_configuration():
    settings = VacancySettings.from_env(
        {
            "VACANCIES_URL": " https://boards-api.greenhouse.io/v1/boards/mi5/jobs?content=true ",
            "VACANCIES_FORMAT": "Greenhouse",
            "VACANCIES_TIMEOUT_S": "2.5",
            "VACANCIES_CACHE_TTL_S": "0",
        }
    )
    assert settings.url == "https://boards-api.greenhouse.io/v1/boards/mi5/jobs?content=true"
    assert settings.format == "greenhouse"
    assert settings.timeout_s == 2.5 and settings.cache_ttl_s == 0
    assert settings.is_remote


def test_a_relative_path_is_from_the_project_root():
    settings = VacancySettings.from_env({"VACANCIES_URL": "data/vacancies/jobposting.json"})
    assert Path(settings.url) == PROJECT_ROOT / "data" / "vacancies" / "jobposting.json"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "VACANCIES_FORMAT",
            "rss",
            "VACANCIES_FORMAT must be one of jobposting, greenhouse, lever",
        ),
        ("VACANCIES_TIMEOUT_S", "five", "VACANCIES_TIMEOUT_S must be a number of seconds"),
        ("VACANCIES_TIMEOUT_S", "0", "VACANCIES_TIMEOUT_S must be more than 0 seconds"),
        ("VACANCIES_TIMEOUT_S", "-1", "VACANCIES_TIMEOUT_S must be more than 0 seconds"),
        ("VACANCIES_TIMEOUT_S", "nan", "VACANCIES_TIMEOUT_S must be more than 0 seconds"),
        ("VACANCIES_TIMEOUT_S", "600", "VACANCIES_TIMEOUT_S must be at most 60 seconds"),
        ("VACANCIES_CACHE_TTL_S", "-5", "VACANCIES_CACHE_TTL_S must be 0 or more seconds"),
        ("VACANCIES_CACHE_TTL_S", "inf", "VACANCIES_CACHE_TTL_S must be 0 or more seconds"),
        ("VACANCIES_URL", "ftp://example.org/jobs.json", "only http:// and https:// URLs"),
        ("VACANCIES_URL", "https:///jobs.json", "has no host name"),
        ("VACANCIES_URL", "data/vacancies/nope.json", "neither an http(s):// URL nor a file"),
    ],
)
def test_bad_values_say_what_is_wrong(name: str, value: str, message: str):
    with pytest.raises(SettingsError) as error:
        VacancySettings.from_env({name: value})
    assert message in str(error.value)
    assert repr(value) in str(error.value)


def test_a_bad_feed_setting_does_not_break_the_rest_of_the_assistant(monkeypatch):
    monkeypatch.setenv("VACANCIES_FORMAT", "rss")
    assert Settings.from_env().qa_events_file.name == "qa_events.yml"
