"""`make check`: each content problem is caught, at its file and line, and the real data passes."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import List

import pytest
from rasa.shared.nlu.training_data.entities_parser import replace_entities
from rasa.shared.utils.io import read_yaml
from ruamel.yaml.cyaml import CSafeLoader

from training.checks import (
    MAX_ANSWER_BYTES,
    MIN_HELDOUT_EXAMPLES,
    MIN_TRAINING_EXAMPLES,
    is_official,
    link_problem,
    main,
    run_checks,
)
from training.content import Problem, parse
from training.topics import ROOT, without_entity_markup

PROBLEM_LINE = re.compile(r"^(?P<file>[^\s:]+):(?P<line>\d+): (?P<what>.+): (?P<fix>.+)$")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the content the checks read, to break on purpose."""
    for name in ("data", "tests/nlu", "tests/stories"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "domain.yml", tmp_path / "domain.yml")
    return tmp_path


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if text in line)


def examples_of(path: Path, intent: str) -> List[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"- intent: {intent}")
    block = []
    for line in lines[start + 2 :]:
        if not line.startswith("    - "):
            break
        block.append(line)
    return block


def only(problems: List[Problem], fragment: str) -> List[Problem]:
    return [problem for problem in problems if fragment in problem.what]


def test_the_real_data_passes():
    assert [str(p) for p in run_checks(ROOT)] == []


def test_the_command_prints_file_line_what_and_fix_and_fails(project: Path, capsys):
    edit(
        project / "data" / "responses" / "process.yml",
        "https://www.mi5.gov.uk",
        "http://www.mi5.gov.uk",
    )
    assert main(["--root", str(project)]) == 1
    printed = capsys.readouterr().out.splitlines()
    assert printed and all(PROBLEM_LINE.match(line) for line in printed), printed
    assert main(["--root", str(ROOT)]) == 0


def test_too_few_training_examples(project: Path):
    path = project / "data" / "nlu" / "working_life.yml"
    block = examples_of(path, "faq/life_salary")
    keep = MIN_TRAINING_EXAMPLES - 1
    edit(path, "\n".join(block), "\n".join(block[:keep]))
    (problem,) = run_checks(project)
    assert (problem.path, problem.line) == (
        "data/nlu/working_life.yml",
        line_of(path, "- intent: faq/life_salary"),
    )
    assert problem.what == f"faq/life_salary has {keep} training examples, fewer than 15"
    assert "make label" in problem.fix


def test_no_answer(project: Path):
    path = project / "data" / "responses" / "working_life.yml"
    edit(path, "utter_faq/life_salary:", "utter_faq/life_wages:")
    problems = run_checks(project)
    assert [p.what for p in only(problems, "life_salary")] == ["faq/life_salary has no answer"]
    assert only(problems, "faq/life_salary has no answer")[0].path == "data/nlu/working_life.yml"


def test_an_unanswered_stub(project: Path):
    path = project / "data" / "responses" / "about.yml"
    edit(
        path,
        "  utter_faq/about_mi5:\n  - text:",
        "  utter_faq/about_mi5:\n  - metadata:\n      unanswered: true\n    text:",
    )
    (problem,) = run_checks(project)
    assert problem.what == "faq/about_mi5 is unanswered (its answer is still the stub)"
    assert (problem.path, problem.line) == (
        "data/responses/about.yml",
        line_of(path, "utter_faq/about_mi5:"),
    )


def test_no_test_story(project: Path):
    path = project / "tests" / "stories" / "test_faq_topics.yml"
    edit(path, "      - intent: faq/roles_analyst\n", "      - intent: faq/roles_analysts\n")
    problems = run_checks(project)
    assert [p.what for p in problems] == [
        "faq/roles_analyst has no test story",
        "the test story asks faq/roles_analysts, which is not a topic",
    ]
    assert problems[1].line == line_of(path, "faq/roles_analysts")


def test_no_held_out_examples(project: Path):
    path = project / "tests" / "nlu" / "heldout_roles.yml"
    edit(path, "- intent: faq/roles_corporate\n", "- intent: faq/roles_corporat\n")
    problems = run_checks(project)
    assert [p.what for p in problems] == [
        f"faq/roles_corporate has 0 held-out examples, fewer than {MIN_HELDOUT_EXAMPLES}",
        "held-out examples for faq/roles_corporat, which is not a topic",
    ]
    assert "tests/nlu/heldout_roles.yml" in problems[0].fix


def test_an_example_under_two_intents(project: Path):
    path = project / "data" / "nlu" / "eligibility.yml"
    edit(
        path,
        "- intent: faq/eligibility_age\n  examples: |\n",
        "- intent: faq/eligibility_age\n  examples: |\n    - Do I have to be British, to apply?\n",
    )
    (problem,) = run_checks(project)
    first = line_of(path, "- do i have to be british to apply")
    assert (problem.path, problem.line) == (
        "data/nlu/eligibility.yml",
        line_of(path, "Do I have to"),
    )
    assert problem.what == (
        "'Do I have to be British, to apply?' is under faq/eligibility_age and also under "
        f"faq/eligibility_nationality (data/nlu/eligibility.yml:{first})"
    )


def test_a_held_out_example_in_the_training_data(project: Path):
    heldout = (project / "tests" / "nlu" / "heldout_about.yml").read_text().splitlines()
    question = heldout[5].strip()[2:]
    path = project / "data" / "nlu" / "about.yml"
    edit(
        path,
        "- intent: faq/myth_james_bond\n  examples: |\n",
        f"- intent: faq/myth_james_bond\n  examples: |\n    - {question}\n",
    )
    (problem,) = run_checks(project)
    assert problem.line == line_of(path, question)
    assert (
        "is a held-out example (tests/nlu/heldout_about.yml:6, faq/myth_james_bond)" in problem.what
    )


@pytest.mark.parametrize("characters", [MAX_ANSWER_BYTES // 2, MAX_ANSWER_BYTES // 2 + 1])
def test_an_answer_over_1000_bytes_counts_bytes_not_characters(project: Path, characters: int):
    path = project / "domain.yml"
    answer = "é" * characters  # two bytes each: 1,000 bytes fit, 1,002 do not
    edit(path, "responses:\n", f"responses:\n  utter_long:\n    - text: {answer}\n")
    problems = run_checks(project)
    if characters * 2 <= MAX_ANSWER_BYTES:
        assert problems == []
        return
    (problem,) = problems
    assert (problem.path, problem.line) == ("domain.yml", line_of(path, "utter_long:") + 1)
    assert problem.what == "utter_long is 1002 bytes of UTF-8, more than Instagram's 1000"


def test_domain_answers_are_checked_too(project: Path):
    path = project / "domain.yml"
    text = path.read_text()
    match = re.search(r"https://www\.mi5\.gov\.uk\S*", text)
    assert match
    edit(path, match.group(0), match.group(0).replace("https://", "http://"))
    (problem,) = run_checks(project)
    assert problem.path == "domain.yml" and "is not https" in problem.what


@pytest.mark.parametrize(
    ("link", "why"),
    [
        ("http://www.mi5.gov.uk/careers", "is not https"),
        ("www.mi5.gov.uk/careers", "has no https://"),
        ("https://www.mi5.gov.uk/care<ers>", "not allowed in a URL"),
        ("https://www.mi5.gov.uk/careers%2", "two hex digits"),
        ("https://localhost/careers", "no valid host name"),
        ("https://-mi5.gov.uk/", "no valid host name"),
        ("https://www.mi5.gov.uk:99999/", "does not parse"),
        ("https://www.mi5.gov.uk:8080/", "port 8080"),
    ],
)
def test_a_malformed_link_is_caught(link: str, why: str):
    problem = link_problem(link)
    assert problem and why in problem


@pytest.mark.parametrize(
    "link",
    [
        "https://www.mi5.gov.uk/careers",
        "https://www.mi5.gov.uk/careers/applying-for-jobs?x=1&y=%20#top",
        "https://www.gov.uk/",
    ],
)
def test_a_good_link_passes(link: str):
    assert link_problem(link) is None


@pytest.mark.parametrize(
    ("link", "official"),
    [
        ("https://www.mi5.gov.uk/careers", True),
        ("https://www.gov.uk/ACT", True),
        ("https://www.reportfraud.police.uk", True),
        ("https://investigatorypowerstribunal.org.uk", True),
        ("https://mi5govuk.com/privacy-policy", False),
        ("https://misisecure.com/how-we-work", False),
        ("https://www.mi5.gov.uk.example.com/", False),
        ("https://notgov.uk/", False),
    ],
)
def test_only_official_sites_count_as_official(link: str, official: bool):
    assert is_official(link) is official


def test_an_answer_linking_an_unofficial_site_is_caught(project: Path):
    path = project / "data" / "responses" / "public.yml"
    edit(path, "https://www.mi5.gov.uk/threat-levels", "https://mi5govuk.com/threat-levels")
    (problem,) = run_checks(project)
    assert problem.path == "data/responses/public.yml"
    assert "'https://mi5govuk.com/threat-levels' is not an official site" in problem.what


@pytest.mark.parametrize(
    ("written", "caught"),
    [
        ("More: http://www.mi5.gov.uk/careers", "is not https"),
        ("More: https://www.mi5.gov.uk/careers/ applying-for-jobs", "seems to go on after a space"),
        ("Read (https://www.mi5.gov.uk/careers).", None),  # brackets and full stop are not the link
    ],
)
def test_links_are_found_in_answers(project: Path, written: str, caught: str | None):
    path = project / "data" / "responses" / "process.yml"
    answer = "  utter_faq/process_duration:\n  - text: >-\n"
    edit(path, answer, f"{answer}      {written}\n")
    problems = [str(p) for p in run_checks(project)]
    if caught is None:
        assert problems == []
    else:
        (problem,) = problems
        assert caught in problem and problem.startswith("data/responses/process.yml:")


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ('{"label": "job_family", "pattern": [{"LOWER": "tech"}]', "not valid JSON"),
        ('["job_family", "tech"]', "not a JSON object"),
        ('{"pattern": "tech"}', "no label"),
        ('{"label": "job_family", "pattern": [{"LOWR": "tech"}]}', "spaCy rejects"),
        ('{"label": "job_family", "pattern": [{"LOWER": 5}]}', "spaCy rejects"),
        ('{"label": "job_family", "pattern": {"LOWER": "tech"}}', "neither a phrase nor a list"),
        ('{"label": "job_family", "pattern": "tech", "id": 3}', "id is not a string"),
        ('{"label": "job_family", "patern": "tech"}', "unknown key 'patern'"),
    ],
)
def test_a_broken_entity_pattern_is_caught_at_its_line(project: Path, line: str, why: str):
    path = project / "data" / "entity_patterns.jsonl"
    lines = path.read_text().splitlines()
    lines.insert(3, line)
    path.write_text("\n".join(lines) + "\n")
    (problem,) = run_checks(project)
    assert (problem.path, problem.line) == ("data/entity_patterns.jsonl", 4)
    assert why in problem.what


def test_the_real_entity_patterns_are_all_valid_json_lines():
    lines = (ROOT / "data" / "entity_patterns.jsonl").read_text().splitlines()
    assert all(json.loads(line)["label"] for line in lines if line.strip())


def test_malformed_yaml_is_reported_at_its_line_and_stops_the_content_checks(project: Path):
    path = project / "data" / "nlu" / "process.yml"
    target = examples_of(path, "faq/process_vetting")[3]
    edit(path, target + "\n", target.replace("    - ", "  - ", 1) + "\n")
    (problem,) = run_checks(project)
    assert (problem.path, problem.line) == ("data/nlu/process.yml", line_of(path, target.strip()))
    assert problem.what.startswith("YAML syntax error")


def test_a_line_without_a_dash_is_reported(project: Path):
    path = project / "data" / "nlu" / "roles.yml"
    target = examples_of(path, "faq/roles_languages")[2]
    edit(path, target + "\n", target.replace("- ", "", 1) + "\n")
    problems = run_checks(project)
    assert problems[0].line == line_of(path, target.replace("- ", "", 1))
    assert "does not start with '- '" in problems[0].what


def test_a_topic_name_that_breaks_the_naming_rules(project: Path):
    renamed = [
        project / "data" / "nlu" / "about.yml",
        project / "data" / "responses" / "about.yml",
        project / "tests" / "nlu" / "heldout_about.yml",
        *(project / "tests" / "stories").glob("*.yml"),
    ]
    for path in renamed:
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("faq/about_mi5", "faq/AboutMI5"), encoding="utf-8")
    problems = run_checks(project)
    assert "faq/'AboutMI5' breaks the naming rules" in [p.what.split(":")[0] for p in problems]
    assert problems[0].path == "data/nlu/about.yml"


@pytest.mark.parametrize(
    ("content", "line", "what"),
    [
        (b"- intent: greet\n  examples: |\n    - hi\n    - h\x07ey\n", 5, "control characters"),
        (b"- intent: greet\n  examples: |\n    - caf\xe9\n", 4, "not UTF-8 text"),
        (
            b"- intent: greet\n  examples: |\n    - hi\n  examples: |\n    - yo\n",
            5,
            "the key 'examples' appears twice in the block from line 2",
        ),
    ],
)
def test_unreadable_yaml_is_one_line_at_its_line(project: Path, content: bytes, line: int, what):
    path = project / "data" / "nlu" / "extra.yml"
    path.write_bytes(b"nlu:\n" + content)
    (problem,) = run_checks(project)
    assert (problem.path, problem.line) == ("data/nlu/extra.yml", line)
    assert what in problem.what and "\n" not in str(problem)


def test_a_topic_without_a_quick_reply_title(project: Path):
    path = project / "data" / "topic_titles.yml"
    edit(path, "  faq/process_vetting: Security vetting\n", "")
    (problem,) = run_checks(project)
    assert problem.what == "faq/process_vetting has no quick reply title"
    assert (problem.path, problem.line) == ("data/topic_titles.yml", line_of(path, "titles:"))
    assert "faq/process_vetting: <title of at most 20 characters>" in problem.fix


def test_a_quick_reply_title_too_long_or_for_no_intent(project: Path):
    path = project / "data" / "topic_titles.yml"
    edit(path, "Security vetting", "All about security vetting")
    edit(path, "  help: What can you do?\n", "  helpme: What can you do?\n")
    problems = run_checks(project)
    assert [(p.line, p.what) for p in problems] == [
        (line_of(path, "All about"), "the title of faq/process_vetting is 26 characters long"),
        (line_of(path, "helpme"), "helpme has a title but is not an intent of the domain"),
    ]


def test_a_title_for_a_topic_on_its_way_is_no_problem(project: Path):
    edit(
        project / "data" / "topic_titles.yml",
        "titles:\n",
        "titles:\n  faq/public_new_topic: A new topic\n",
    )
    assert run_checks(project) == []


def test_reading_the_content_again_and_again_costs_the_same():
    """ruamel.yaml 0.17.21 grows its shared resolver lists on every scalar once a catch-all
    resolver is registered (Rasa registers `!env_var`); the checks' loader must not (the desk's
    Training pages read the content on every view)."""
    read_yaml("greeting: hello")  # Rasa registers its catch-all resolver (`!env_var`)
    text = (ROOT / "data" / "nlu" / "eligibility.yml").read_text(encoding="utf-8")
    parse(text)
    before = {first: len(known) for first, known in CSafeLoader.yaml_implicit_resolvers.items()}
    for _ in range(3):
        parse(text)
    after = {first: len(known) for first, known in CSafeLoader.yaml_implicit_resolvers.items()}
    assert after == before


def test_entity_markup_is_removed_as_rasa_reads_it() -> None:
    """The desk strips entity markup without Rasa; it must agree with Rasa's own reading on
    every training example and on each markup form."""
    samples = [
        "is there a [cyber](role_family) job in [Manchester](location)?",
        "[part time](working_pattern:part-time) please",
        'roles in [london]{"entity": "location", "value": "London"}',
        '[GCHQ][{"entity": "org"}, {"entity": "agency", "value": "gchq"}] or MI5?',
        "no markup [here] or (there)",
    ]
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        samples += [
            line.strip()[2:] for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip().startswith("- ") and "[" in line
        ]  # fmt: skip
    assert len(samples) > 5
    for sample in samples:
        assert without_entity_markup(sample) == replace_entities(sample), sample
