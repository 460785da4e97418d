"""`make report`: how well the assistant tells its topics apart, and what changed.

Cross-validation uses Rasa's own machinery as `rasa test nlu --cross-validation` does
(`rasa.nlu.test.generate_folds`, `rasa.model_training.train_nlu`, fallbacks undone with
`fallback_classifier.undo_fallback_prediction` so a wrong guess under the threshold still
shows which topic it went to). It differs in one respect: each example is scored by its
*topic* as evaluation.heldout.label_of gives it (`faq/process_vetting` for FAQ questions,
the intent otherwise), where Rasa scores the intent and the response selector separately
and hides "an FAQ question taken for a greeting" from the FAQ figures. The folds are seeded,
so two runs on the same data compare like with like.

Writes reports/nlu_summary.json and reports/nlu_summary.md (committed: the next report
and the pull request compare against them) and reports/nlu_report.html (git-ignored).

    python -m training.report [MODEL] [--folds 3] [--config config.yml]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

from evaluation.heldout import evaluate_model, label_of
from training import baseline
from training.report_figures import (
    Prediction,
    compare,
    confused_pairs,
    confusion_counts,
    overall_metrics,
    topic_metrics,
    topics_with_heldout,
)
from training.report_pages import ReportContext, confusion_png, render_html, render_markdown

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "reports"
SUMMARY_JSON = "nlu_summary.json"
SUMMARY_MD = "nlu_summary.md"
PAGE = "nlu_report.html"
MODEL = ROOT / "models" / "careers.tar.gz"
FOLD_SEED = 7


def load_training_data(data: Path, domain: Path) -> Any:
    """The NLU data as `rasa test nlu` loads it (FAQ answers included, for the selector)."""
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_dict(
        training_data_paths=[str(data)], domain_path=str(domain)
    )
    return importer.get_nlu_data()


def cross_validated_predictions(
    config: Path, data: Any, folds: int, seed: int = FOLD_SEED
) -> List[Prediction]:
    """(text, topic, predicted topic) for every example, each predicted by the fold that
    did not train on it."""
    import numpy as np
    from rasa.model_training import train_nlu
    from rasa.nlu.test import drop_intents_below_freq, generate_folds
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter

    data = drop_intents_below_freq(data, cutoff=folds)
    # generate_folds shuffles with numpy's global generator; seeding it fixes the split.
    np.random.seed(seed)
    splits = list(generate_folds(folds, data))
    predictions: List[Prediction] = []
    with tempfile.TemporaryDirectory(prefix="nlu-report-") as tmp:
        for number, (train, test) in enumerate(splits, start=1):
            print(f"Fold {number}/{folds}: training on {len(train.intent_examples)} examples")
            fold_dir = Path(tmp) / f"fold{number}"
            fold_dir.mkdir()
            training_file = fold_dir / "training_data.yml"
            RasaYAMLWriter().dump(training_file, train)
            model = train_nlu(str(config), str(training_file), str(fold_dir))
            if model is None:
                raise RuntimeError(f"fold {number}: Rasa trained no model")
            examples = [(m.get("text"), m.get_full_intent()) for m in test.intent_examples]
            predictions += asyncio.run(_predict(Path(model), examples))
    return predictions


async def _predict(model: Path, examples: List[Tuple[str, str]]) -> List[Prediction]:
    from rasa.core.agent import Agent
    from rasa.nlu.classifiers import fallback_classifier

    agent = Agent.load(str(model))
    rows: List[Prediction] = []
    for text, expected in examples:
        parse = await agent.parse_message(text)
        if fallback_classifier.is_fallback_classifier_prediction(parse):
            parse = fallback_classifier.undo_fallback_prediction(parse)
        rows.append((text, expected, label_of(parse)))
    return rows


def previous_summary(path: Path) -> Tuple[Dict[str, Any] | None, str | None]:
    """The last report saved in the repository: the committed file, else the one on disk.

    Comparing with the committed copy means running the report twice before committing
    still shows the change since the last commit, not since the last run.
    """
    relative = path.resolve().relative_to(ROOT) if path.resolve().is_relative_to(ROOT) else None
    if relative is not None:
        try:
            shown = subprocess.run(
                ["git", "show", f"HEAD:{relative.as_posix()}"],
                cwd=ROOT, capture_output=True, text=True, timeout=30, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            shown = None
        if shown is not None and shown.returncode == 0:
            data: Dict[str, Any] = json.loads(shown.stdout)
            return data, f"the report committed in HEAD ({relative}, {data.get('generated')})"
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        return data, f"the last report on disk ({path.name}, {data.get('generated')})"
    return None, None


def build_summary(
    predictions: List[Prediction],
    heldout: Any,
    folds: int,
    config: Path,
    model: Path,
) -> Dict[str, Any]:
    topics = topic_metrics(predictions)
    overall = overall_metrics(predictions, topics)
    overall["heldout_topic_accuracy"] = heldout.topic_accuracy
    overall["heldout_out_of_scope_recall"] = heldout.out_of_scope_recall
    return {
        "generated": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "folds": folds,
        "fold_seed": FOLD_SEED,
        "examples": len(predictions),
        "config": _display(config),
        "model": _display(model),
        "overall": {name: round(value, 4) for name, value in overall.items()},
        "topics": topics_with_heldout(topics, heldout.per_label_accuracy()),
    }


def _display(path: Path) -> str:
    resolved = path.resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(path)


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "model", nargs="?", type=Path, default=MODEL, help="model for the held-out accuracy"
    )
    parser.add_argument("--folds", type=int, default=3, help="cross-validation folds (>= 2)")
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
    parser.add_argument("--data", type=Path, default=ROOT / "data")
    parser.add_argument("--domain", type=Path, default=ROOT / "domain.yml")
    parser.add_argument("--out", type=Path, default=REPORTS, help="where the report goes")
    args = parser.parse_args(argv)
    for name in ("model", "config", "data", "domain", "out"):
        setattr(args, name, getattr(args, name).resolve())
    if args.folds < 2:
        parser.error("--folds must be at least 2")
    for path, hint in ((args.model, "run `make train` first"), (args.config, ""),
                       (args.data, ""), (args.domain, "")):  # fmt: skip
        if not path.exists():
            parser.error(f"{path} does not exist{': ' + hint if hint else ''}")
    # The config's relative paths (the spaCy pipeline) and custom components are the
    # project's; the folds' models are thrown away, so they stay out of Rasa's training
    # cache rather than evicting what `make train` reuses.
    os.chdir(ROOT)
    os.environ["RASA_MAX_CACHE_SIZE"] = "0"
    started = time.monotonic()

    previous, previous_source = previous_summary(args.out / SUMMARY_JSON)
    data = load_training_data(args.data, args.domain)
    predictions = cross_validated_predictions(args.config, data, args.folds)
    print(f"Held-out accuracy of {args.model}")
    heldout = evaluate_model(args.model)
    summary = build_summary(predictions, heldout, args.folds, args.config, args.model)
    saved = baseline.load()
    gate = baseline.regressions(saved, baseline.figures(heldout)) if saved else None
    labels, counts = confusion_counts(predictions)
    context = ReportContext(
        summary=summary,
        comparison=compare(previous, summary),
        pairs=confused_pairs(predictions),
        previous_source=previous_source,
        gate_failures=gate,
        elapsed_seconds=time.monotonic() - started,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / SUMMARY_JSON).write_text(
        json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    markdown = render_markdown(context)
    (args.out / SUMMARY_MD).write_text(markdown, encoding="utf-8")
    (args.out / PAGE).write_text(render_html(context, confusion_png(labels, counts)), "utf-8")
    print(markdown)
    print(f"Report: {args.out / PAGE} ({context.elapsed_seconds / 60:.1f} minutes)")
    regressions = context.comparison.regressions
    if regressions:
        print(f"{len(regressions)} regression(s) against {previous_source}: see the report.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
