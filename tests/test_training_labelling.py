"""Labelling: an applicant's question lands in the right file, and nothing else in it changes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict

import pytest
from rasa.shared.nlu.training_data.loading import load_data

from training.checks import run_checks
from training.data_file_edits import STUB_ANSWER
from training.label import main as label_main
from training.labelling import MAX_EXAMPLE_CHARS, LabellingError, add_example, add_topic
from training.topics import ROOT

# A hand-written NLU file: comments everywhere, quotes, a blank line, a block indented deeper than
# the others, a `|-` block, and no newline at the end of the file.
HAND_WRITTEN = (
    'version: "3.1"\n'
    "# Trainers' notes: keep these!\n"
    "nlu:\n"
    "- intent: faq/life_salary   # pay questions\n"
    "  examples: |\n"
    "    - how much do u pay\n"
    '    - what\'s the "starting" salary\n'
    "\n"
    "# between blocks\n"
    "- intent: faq/life_benefits\n"
    "  examples: |\n"
    "      - is there a pension\n"
    "      - how much annual leave\n"
    "  # after the block\n"
    "- intent: greet\n"
    "  examples: |-\n"
    "    - hi\n"
    "    - hello there"
)


def copy_project(destination: Path) -> Path:
    """A copy of the content a trainer edits; returns its data directory."""
    for name in ("data", "tests/nlu", "tests/stories"):
        shutil.copytree(ROOT / name, destination / name)
    shutil.copy(ROOT / "domain.yml", destination / "domain.yml")
    return destination / "data"


def snapshot(root: Path) -> Dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def only_lines_added(before: bytes, after: bytes, added: list[str]) -> bool:
    """True when `after` is `before` with exactly the `added` lines inserted, in one place."""
    old = before.decode("utf-8").splitlines(keepends=True)
    new = after.decode("utf-8").splitlines(keepends=True)
    if len(new) != len(old) + len(added):
        return False
    for start in range(len(old) + 1):
        inserted = [line.rstrip("\r\n") for line in new[start : start + len(added)]]
        if inserted == added and new[:start] + new[start + len(added) :] == old:
            return True
    return False


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


@pytest.fixture
def hand_written(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    (data / "nlu").mkdir(parents=True)
    path = data / "nlu" / "working_life.yml"
    path.write_bytes(HAND_WRITTEN.encode("utf-8"))
    return data


def test_an_example_on_real_data_adds_one_line_and_changes_nothing_else(project: Path):
    root = project.parent
    before = snapshot(root)
    added = add_example("eligibility_age", "can u apply at 17 and a half or do i wait", project)

    after = snapshot(root)
    changed = [name for name in after if after[name] != before.get(name)]
    assert changed == ["data/nlu/eligibility.yml"]
    line = "    - can u apply at 17 and a half or do i wait"
    assert only_lines_added(before[changed[0]], after[changed[0]], [line])
    (change,) = added.changes
    written = (project / "nlu" / "eligibility.yml").read_text().splitlines()
    assert written[change.line - 1] == line
    examples = load_data(str(project / "nlu" / "eligibility.yml")).intent_examples
    trained = {(m.get("text"), m.get_full_intent()) for m in examples}
    assert ("can u apply at 17 and a half or do i wait", "faq/eligibility_age") in trained


@pytest.mark.parametrize(
    ("topic", "text", "line"),
    [
        ("life_salary", "is the pay any good", "    - is the pay any good"),
        ("faq/life_benefits", "do u get a gym", "      - do u get a gym"),  # its own indentation
        ("greet", "yo", "    - yo"),  # `|-`, at the end of a file without a final newline
    ],
)
def test_a_hand_written_file_with_comments_stays_byte_identical_but_the_line(
    hand_written: Path, topic: str, text: str, line: str
):
    path = hand_written / "nlu" / "working_life.yml"
    before = path.read_bytes()
    add_example(topic, text, hand_written)
    after = path.read_bytes()
    assert only_lines_added(before + b"\n", after + b"\n", [line])
    assert b"# Trainers' notes: keep these!" in after and b'"starting"' in after
    intent = topic if topic == "greet" else f"faq/{topic.removeprefix('faq/')}"
    trained = {(m.get("text"), m.get_full_intent()) for m in load_data(str(path)).intent_examples}
    assert (text, intent) in trained
    assert len(trained) == 7


def test_windows_line_endings_are_kept(hand_written: Path):
    path = hand_written / "nlu" / "working_life.yml"
    path.write_bytes(HAND_WRITTEN.replace("\n", "\r\n").encode("utf-8") + b"\r\n")
    add_example("life_salary", "whats the pay", hand_written)
    assert b"    - whats the pay\r\n" in path.read_bytes()
    assert b"\n" not in path.read_bytes().replace(b"\r\n", b"")


def test_a_duplicate_is_refused_with_where_it_is(project: Path):
    before = snapshot(project.parent)
    with pytest.raises(LabellingError) as refused:
        add_example("process_vetting", "Do I have to be BRITISH to apply?!", project)
    message = refused.value.message
    assert "faq/eligibility_nationality" in message
    location = message.split(" at ", 1)[1].split(" ", 1)[0]
    file, line = location.rsplit(":", 1)
    assert file == "data/nlu/eligibility.yml"
    text = (project.parent / file).read_text().splitlines()[int(line) - 1]
    assert text.strip() == "- do i have to be british to apply"
    assert snapshot(project.parent) == before


def test_a_held_out_question_is_refused(project: Path):
    heldout = load_data(str(project.parent / "tests" / "nlu" / "heldout_about.yml"))
    question = heldout.intent_examples[0].get("text")
    with pytest.raises(LabellingError, match=r"held-out example of faq/\w+ at tests/nlu/heldout"):
        add_example("myth_james_bond", question.upper(), project)


def test_an_unknown_topic_is_refused_with_the_closest_names(project: Path):
    with pytest.raises(LabellingError, match="did you mean eligibility_age"):
        add_example("eligibility_agee", "am i too old at 55", project)
    with pytest.raises(LabellingError, match="did you mean process_vetting") as refused:
        add_example("Process-Vetting", "what is dv", project)
    assert "naming rules" not in refused.value.message  # a near miss is not a naming lesson


@pytest.mark.parametrize(
    "name",
    [
        "pets",  # no area prefix
        "Life_pets",  # not lowercase
        "life-pets",  # not snake_case
        "life__pets",
        "life_",
        "life_pets!",
        "faq_pets",  # faq is not an area
        "working_life_pets",  # the file name is not the prefix
        "life_" + "x" * 40,  # too long
    ],
)
def test_a_new_topic_name_that_breaks_the_naming_rules_is_refused(project: Path, name: str):
    before = snapshot(project.parent)
    with pytest.raises(LabellingError, match=r"naming rules|characters long"):
        add_topic(name, "can i bring my dog to work", data_dir=project)
    assert snapshot(project.parent) == before


def test_a_new_topic_is_refused_when_it_exists_or_its_area_is_wrong(project: Path):
    with pytest.raises(LabellingError, match="already exists: add the example to it with --topic"):
        add_topic("life_salary", "is the pay decent", data_dir=project)
    with pytest.raises(LabellingError, match="belongs to the area 'working_life'"):
        add_topic("life_pets", "can i bring my dog", area="about", data_dir=project)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("?!...", "empty"),
        ("a" * (MAX_EXAMPLE_CHARS + 1), "characters"),
        ("hello\x07there", "control character"),
    ],
)
def test_an_unusable_example_is_refused(project: Path, text: str, why: str):
    with pytest.raises(LabellingError, match=why):
        add_example("greet", text, project)


def test_several_lines_become_one_example(project: Path):
    added = add_example("life_salary", "  hiya\n\nwhat's   the pay like?  ", project)
    assert added.text == "hiya what's the pay like?"


@pytest.mark.parametrize(
    ("good", "bad", "line"),
    [
        ("    - how much do u pay\n", "  - how much do u pay\n", 6),  # indentation
        ("- intent: faq/life_benefits\n", '- intent: "faq/life_benefits\n', 10),  # open quote
        ("  examples: |\n      - is there", "  examples |\n      - is there", 11),  # no colon
    ],
)
def test_malformed_yaml_is_refused_with_its_file_and_line(
    hand_written: Path, good: str, bad: str, line: int
):
    path = hand_written / "nlu" / "working_life.yml"
    broken = HAND_WRITTEN.replace(good, bad)
    assert broken != HAND_WRITTEN
    path.write_text(broken)
    with pytest.raises(LabellingError) as refused:
        add_example("greet", "hey", hand_written)
    assert f"data/nlu/working_life.yml:{line}: YAML syntax error" in refused.value.message
    assert path.read_text() == broken


def test_a_new_topic_gets_examples_an_unanswered_stub_and_a_test_story(project: Path):
    root = project.parent
    before = snapshot(root)
    added = add_topic("life_pets", "can i bring my dog to work", data_dir=project)

    after = snapshot(root)
    changed = sorted(name for name in after if after[name] != before.get(name))
    assert changed == [
        "data/nlu/working_life.yml",
        "data/responses/working_life.yml",
        "tests/stories/test_faq_topics.yml",
    ]
    assert only_lines_added(
        before[changed[0]],
        after[changed[0]],
        ["- intent: faq/life_pets", "  examples: |", "    - can i bring my dog to work"],
    )
    assert only_lines_added(
        before[changed[2]],
        after[changed[2]],
        [
            "  - story: faq life_pets",
            "    steps:",
            "      - intent: faq/life_pets",
            "      - action: utter_faq",
        ],
    )
    responses = before[changed[1]].decode().splitlines()
    stub = after[changed[1]].decode().splitlines()
    assert stub[: len(responses)] == responses  # appended after the last answer
    assert any("# UNANSWERED" in line for line in stub[len(responses) :])
    answers = load_data(str(project / "responses" / "working_life.yml")).responses
    (variant,) = answers["utter_faq/life_pets"]
    assert variant["text"] == STUB_ANSWER and variant["metadata"] == {"unanswered": True}
    assert [change.path.name for change in added.changes] == [Path(c).name for c in changed]
    assert any("answer an FAQ topic" in note for note in added.notes)

    problems = [str(p) for p in run_checks(root) if "faq/life_pets" in p.what]
    response_line = next(c.line for c in added.changes if c.path.parent.name == "responses")
    assert f"data/responses/working_life.yml:{response_line}: faq/life_pets is unanswered" in (
        "\n".join(problems)
    )
    assert any("1 training examples" in problem for problem in problems)
    assert any("0 held-out examples" in problem for problem in problems)
    assert not any("no test story" in problem for problem in problems)


def test_writing_the_answer_clears_the_unanswered_flag(project: Path):
    add_topic("life_pets", "can i bring my dog to work", data_dir=project)
    path = project / "responses" / "working_life.yml"
    text = path.read_text()
    text = text.replace("    metadata:\n      unanswered: true\n", "")
    path.write_text(text)
    assert not [p for p in run_checks(project.parent) if "unanswered" in p.what]


def test_the_cli_writes_and_refuses_with_exit_code_2(project: Path, capsys):
    argv = [
        "do staff get a discount at the gym near thames house",
        "--topic",
        "life_benefits",
        "--data-dir",
        str(project),
    ]
    assert label_main(argv) == 0
    assert "data/nlu/working_life.yml:" in capsys.readouterr().out
    assert label_main(argv) == 2
    assert "already an example of faq/life_benefits" in capsys.readouterr().err
    assert label_main(["hi", "--data-dir", str(project)]) == 2
    assert "--topic NAME" in capsys.readouterr().err


def test_the_cli_module_runs_and_exits_2_on_refusal(project: Path):
    result = subprocess.run(
        [sys.executable, "-m", "training.label", "x", "--new-topic", "Pets"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "naming rules" in result.stderr and "Traceback" not in result.stderr


def test_trainers_labelling_at_once_lose_nothing(project: Path):
    """Two processes (the CLI) and threads in this one (desk workers) label at the same time."""
    texts = [f"does the {n}th floor canteen do vegan food" for n in range(12)]

    def cli(text: str) -> subprocess.Popen:
        argv = ["-m", "training.label", text, "--topic", "life_benefits", "--data-dir"]
        return subprocess.Popen([sys.executable, *argv, str(project)], cwd=ROOT)

    processes = [cli(text) for text in texts[:4]]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda text: add_example("life_benefits", text, project), texts[4:]))
    assert [process.wait(120) for process in processes] == [0] * 4
    examples = load_data(str(project / "nlu" / "working_life.yml")).intent_examples
    added = [m.get("text") for m in examples if m.get("text") in texts]
    assert sorted(added) == sorted(texts)
