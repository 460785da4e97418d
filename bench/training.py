"""How long a trainer waits for a retrained assistant (the "Retraining" section).

In a scratch copy of the content (data/, domain.yml, config.yml) with a Rasa cache of its own,
training is timed five times, each step after the one before, as a trainer meets it:

1. from nothing (an empty cache, as after a fresh clone);
2. after a change to one answer's wording only (`make train`);
3. after one new training example, as `make label` adds it (`make train`: Rasa reuses the
   dialogue policies, whose data did not change);
4. with nothing changed since that training (Rasa restores every component from its cache);
5. after another example, fine-tuning the last model instead (`make train-fast`).

``run()`` returns the Markdown section; ``python -m bench.training`` prints it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, List, Sequence, Tuple

from scripts.stack import BIN, ROOT, quiet_env
from training.labelling import add_example

TARGET_S = 90.0
NEW_EXAMPLES = (
    "is the pay band for a new intelligence officer public",
    "whats the starting wage if u join as an analyst",
)
FINETUNE = ("--finetune", "models/careers.tar.gz", "--epoch-fraction", "0.2")  # make train-fast
ANSWER_FILE = Path("data/responses/working_life.yml")


def _copy_content(to: Path) -> None:
    shutil.copytree(ROOT / "data", to / "data")
    for name in ("domain.yml", "config.yml"):
        shutil.copy(ROOT / name, to / name)
    (to / "var").mkdir()
    (to / "var" / "spacy").symlink_to(ROOT / "var" / "spacy")


def _train(workdir: Path, extra: Sequence[str] = ()) -> float:
    env = {
        **quiet_env(),
        "RASA_CACHE_DIRECTORY": str(workdir / "cache"),
        "PYTHONPATH": str(ROOT),  # config.yml names components.* of this project
    }
    started = time.monotonic()
    subprocess.run(
        [str(BIN / "rasa"), "train", "--fixed-model-name", "careers", "--out", "models", *extra],
        cwd=workdir, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    return time.monotonic() - started


def _add_example(number: int) -> Callable[[Path], None]:
    def add(workdir: Path) -> None:
        add_example("life_salary", NEW_EXAMPLES[number], workdir / "data")

    return add


def _reword_an_answer(workdir: Path) -> None:
    """Start the first answer in the file with two more words (inside its folded block)."""
    path = workdir / ANSWER_FILE
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    first = next(n for n, line in enumerate(lines) if line.strip() == "- text: >-") + 1
    body = lines[first]
    indent = len(body) - len(body.lstrip())
    lines[first] = body[:indent] + "Good question. " + body[indent:]
    path.write_text("".join(lines), encoding="utf-8")


STEPS: List[Tuple[str, Callable[[Path], None] | None, Sequence[str]]] = [
    ("full training, empty cache (fresh clone)", None, ()),
    ("one answer reworded (`make train`)", _reword_an_answer, ()),
    ("one new training example (`make label`, then `make train`)", _add_example(0), ()),
    ("nothing changed (`make train` again, or `make run` after it)", None, ()),
    ("one more example, fine-tuned (`make train-fast`)", _add_example(1), FINETUNE),
]


def measure() -> List[Tuple[str, float]]:
    figures = []
    with tempfile.TemporaryDirectory(prefix="careers-train-bench-") as tmp:
        workdir = Path(tmp)
        _copy_content(workdir)
        for name, change, extra in STEPS:
            if change is not None:
                change(workdir)
            figures.append((name, _train(workdir, extra)))
    return figures


def run() -> str:
    """The "Retraining" section of BENCHMARKS.md."""
    figures = measure()
    full = figures[0][1]
    lines = [
        "## Retraining (what a trainer waits for)",
        "",
        "Rasa's training in a scratch copy of the content with its own Rasa cache, each step "
        "after the one before (bench/training.py).",
        "",
        "| change since the last training | seconds | target |",
        "| --- | --- | --- |",
        *(
            f"| {name} | {seconds:.0f} | {f'<= {TARGET_S:.0f}' if n == 0 else ''} |"
            for n, (name, seconds) in enumerate(figures)
        ),
        "",
        f"- A full training {'meets' if full <= TARGET_S else 'MISSES'} the {TARGET_S:.0f} s "
        "target on this machine.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
