"""The report as people read it: one self-contained HTML page and a Markdown summary for PRs.

Everything applicants or trainers wrote is escaped; the confusion matrix is embedded as a
base64 PNG so the page can be attached to a ticket or mailed as a single file.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from typing import Any, List, Mapping, Sequence

from training.report_figures import (
    OVERALL_NAMES,
    OVERALL_TOLERANCE_POINTS,
    TOPIC_TOLERANCE_POINTS,
    Change,
    Comparison,
    ConfusedPair,
)

EXAMPLES_PER_DIRECTION = 5
GUIDE = "docs/training.md"


@dataclass
class ReportContext:
    """What the pages say besides the figures: where they came from and the gate's verdict."""

    summary: Mapping[str, Any]
    comparison: Comparison
    pairs: Sequence[ConfusedPair]
    previous_source: str | None  # e.g. "reports/nlu_summary.json at HEAD"; None: first run
    gate_failures: List[str] | None  # None: no held-out baseline saved yet
    elapsed_seconds: float


def confusion_png(labels: Sequence[str], counts: Mapping[str, Mapping[str, int]]) -> bytes:
    """The confusion matrix, coloured by share of each true label, counts written in.

    Sized by the number of labels so ~60 topics stay legible (about 0.27 inch a cell).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    n = len(labels)
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((n, n))
    for want, row in counts.items():
        for got, count in row.items():
            matrix[index[want], index[got]] = count
    totals = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)

    side = max(6.0, 0.27 * n + 3.0)
    fig, ax = plt.subplots(figsize=(side, side), dpi=110)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xticklabels(labels, rotation=90, fontsize=7)
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true topic")
    ax.set_title("Cross-validated confusion matrix (colour: share of the true topic's examples)")
    for i in range(n):
        for j in range(n):
            if matrix[i, j]:
                colour = "white" if shares[i, j] > 0.5 else ("black" if i == j else "darkred")
                ax.text(j, i, f"{int(matrix[i, j])}", ha="center", va="center", fontsize=5.5,
                        color=colour)  # fmt: skip
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _delta(change: Change) -> str:
    delta = change.delta_points
    return "" if delta is None else f"{delta:+.1f}"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def render_markdown(context: ReportContext) -> str:
    """The summary pasted into a pull request: figures, regressions, the worst topics."""
    summary, comparison = context.summary, context.comparison
    lines = [
        "# NLU report",
        "",
        f"{summary['folds']}-fold cross-validation on {summary['examples']} training examples "
        f"({len(summary['topics'])} topics and intents), held-out accuracy of "
        f"`{summary['model']}`. Generated {summary['generated']} by `make report`; "
        "the full page with the confusion matrix is `reports/nlu_report.html`.",
        "",
    ]
    if context.previous_source is None:
        lines += ["First report: no previous report to compare with.", ""]
    else:
        lines += [f"Compared with {context.previous_source}.", ""]
    lines += ["| figure | now | before | change |", "| --- | --- | --- | --- |"]
    for change in comparison.overall:
        flag = " **regression**" if change.regressed else ""
        lines.append(
            f"| {OVERALL_NAMES.get(change.name, change.name)} | {_pct(change.current)} | "
            f"{_pct(change.previous)} | {_delta(change)}{flag} |"
        )
    lines.append("")
    regressions = comparison.regressions
    if regressions:
        lines += [
            f"## Regressions ({len(regressions)})",
            "",
            f"Topic F1 or recall down more than {TOPIC_TOLERANCE_POINTS:g} points, or an "
            f"overall figure down more than {OVERALL_TOLERANCE_POINTS:g}:",
            "",
        ]
        for change in regressions:
            lines.append(
                f"- **{change.name}** {change.metric}: {_pct(change.current)} "
                f"(was {_pct(change.previous)}, {_delta(change)} points)"
            )
        lines.append("")
    elif context.previous_source is not None:
        lines += ["No regressions.", ""]
    if comparison.new_topics:
        lines += [f"New topics: {', '.join(comparison.new_topics)}.", ""]
    if comparison.removed_topics:
        lines += [f"Topics no longer in the data: {', '.join(comparison.removed_topics)}.", ""]
    lines += _gate_markdown(context.gate_failures)
    worst = sorted(summary["topics"].items(), key=lambda item: (item[1]["f1"], item[0]))[:10]
    lines += [
        "## Weakest topics (cross-validated F1)",
        "",
        "| topic | examples | precision | recall | F1 | held-out |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for topic, figures in worst:
        lines.append(
            f"| {topic} | {figures['support']} | {_pct(figures['precision'])} | "
            f"{_pct(figures['recall'])} | {_pct(figures['f1'])} | "
            f"{_pct(figures.get('heldout_accuracy'))} |"
        )
    lines.append("")
    if context.pairs:
        lines += ["## Most confused pairs", "", "| topics | mistakes |", "| --- | --- |"]
        for pair in context.pairs[:5]:
            lines.append(
                f"| {pair.first} ↔ {pair.second} | {len(pair.first_as_second)} + "
                f"{len(pair.second_as_first)} |"
            )
        lines.append("")
    return "\n".join(lines)


def _gate_markdown(failures: List[str] | None) -> List[str]:
    if failures is None:
        return ["Held-out gate: no baseline saved yet (`make baseline`).", ""]
    if not failures:
        return ["Held-out gate: passes (no topic more than 2 points below the baseline).", ""]
    return [
        "## Held-out gate: fails",
        "",
        *[f"- {line}" for line in failures],
        "",
        "`make test` fails until these are fixed, or `make baseline` is run for an intended "
        "trade-off (say why in the pull request).",
        "",
    ]


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #1b1b1b;
       line-height: 1.4; padding: 0 1em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.regressed td { background: #fde2e1; }
.regression { color: #a4000f; font-weight: bold; }
.better { color: #176b2c; }
.note { color: #555; }
.pair { margin-bottom: 1.2em; }
.pair ul { margin: 0.2em 0; }
img { max-width: 100%; height: auto; border: 1px solid #ccc; }
"""


def _delta_cell(change: Change) -> str:
    delta = change.delta_points
    if delta is None:
        return '<td class="n"></td>'
    css = "regression" if change.regressed else ("better" if delta > 0 else "")
    return f'<td class="n {css}">{delta:+.1f}</td>'


def render_html(context: ReportContext, png: bytes) -> str:
    summary, comparison = context.summary, context.comparison
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>NLU report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>NLU report</h1>",
        f"<p>{summary['folds']}-fold cross-validation on {summary['examples']} training examples "
        f"({len(summary['topics'])} topics and intents) with <code>{_e(summary['config'])}</code>, "
        f"and held-out accuracy of <code>{_e(summary['model'])}</code> on tests/nlu/. "
        f"Generated {_e(summary['generated'])} by <code>make report</code> in "
        f"{context.elapsed_seconds / 60:.1f} minutes. How to read it: {GUIDE}.</p>",
    ]
    if context.previous_source is None:
        parts.append("<p>First report: there is no previous report to compare with.</p>")
    else:
        parts.append(f"<p>Changes are against {_e(context.previous_source)}.</p>")

    parts += [
        "<h2>Overall</h2>",
        "<table><tr><th>figure</th><th>now</th><th>before</th><th>change (points)</th></tr>",
    ]
    for change in comparison.overall:
        row_class = ' class="regressed"' if change.regressed else ""
        parts.append(
            f"<tr{row_class}><td>{_e(OVERALL_NAMES.get(change.name, change.name))}</td>"
            f'<td class="n">{_pct(change.current)}</td><td class="n">{_pct(change.previous)}</td>'
            f"{_delta_cell(change)}</tr>"
        )
    parts.append("</table>")

    regressions = comparison.regressions
    parts.append("<h2>Regressions</h2>")
    if regressions:
        parts.append(
            f"<p>Topic F1 or recall down more than {TOPIC_TOLERANCE_POINTS:g} points, or an "
            f"overall figure down more than {OVERALL_TOLERANCE_POINTS:g}:</p><ul>"
        )
        for change in regressions:
            parts.append(
                f'<li class="regression">{_e(change.name)} {_e(change.metric)}: '
                f"{_pct(change.current)} (was {_pct(change.previous)}, "
                f"{_delta(change)} points)</li>"
            )
        parts.append("</ul>")
    elif context.previous_source is None:
        parts.append("<p>None to report on a first run.</p>")
    else:
        parts.append("<p>None.</p>")
    if comparison.new_topics:
        parts.append(f"<p>New topics: {_e(', '.join(comparison.new_topics))}.</p>")
    if comparison.removed_topics:
        parts.append(
            f"<p>Topics no longer in the data: {_e(', '.join(comparison.removed_topics))}.</p>"
        )

    parts.append("<h2>Held-out gate</h2>")
    if context.gate_failures is None:
        parts.append("<p>No baseline saved yet: run <code>make baseline</code>.</p>")
    elif not context.gate_failures:
        parts.append(
            "<p>Passes: no held-out figure is more than 2 points below "
            "reports/heldout_baseline.json.</p>"
        )
    else:
        parts.append('<p class="regression">Fails: <code>make test</code> will fail on</p><ul>')
        parts += [f"<li>{_e(line)}</li>" for line in context.gate_failures]
        parts.append("</ul>")

    parts += [
        "<h2>Topics</h2>",
        '<p class="note">Weakest first. <b>Precision</b>: of the messages the model put in a '
        "topic, the share that belonged there. <b>Recall</b>: of a topic's examples, the share "
        "the model put there. <b>F1</b>: the two combined. <b>Held-out</b>: accuracy on the "
        "paraphrases in tests/nlu/, which the model never trains on.</p>",
        "<table><tr><th>topic</th><th>examples</th><th>precision</th><th>recall</th>"
        "<th>Δ recall</th><th>F1</th><th>Δ F1</th><th>held-out</th></tr>",
    ]
    ordered = sorted(summary["topics"].items(), key=lambda item: (item[1]["f1"], item[0]))
    for topic, figures in ordered:
        changes = {c.metric: c for c in comparison.topics.get(topic, [])}
        recall, f1 = changes.get("recall"), changes.get("f1")
        row_class = ' class="regressed"' if any(c.regressed for c in changes.values()) else ""
        parts.append(
            f"<tr{row_class}><td>{_e(topic)}</td>"
            f'<td class="n">{figures["support"]}</td>'
            f'<td class="n">{_pct(figures["precision"])}</td>'
            f'<td class="n">{_pct(figures["recall"])}</td>'
            f"{_delta_cell(recall) if recall else '<td></td>'}"
            f'<td class="n">{_pct(figures["f1"])}</td>'
            f"{_delta_cell(f1) if f1 else '<td></td>'}"
            f'<td class="n">{_pct(figures.get("heldout_accuracy"))}</td></tr>'
        )
    parts.append("</table>")

    parts += [
        "<h2>Confusion matrix</h2>",
        '<p class="note">Rows are the topic an example belongs to, columns the topic the model '
        "chose. A perfect model has numbers on the diagonal only; a number off it (red) counts "
        "examples sent to the wrong topic.</p>",
        f'<img alt="confusion matrix" src="data:image/png;base64,'
        f'{base64.b64encode(png).decode("ascii")}">',
        "<h2>Most confused pairs</h2>",
    ]
    if not context.pairs:
        parts.append("<p>No mistakes.</p>")
    for pair in context.pairs:
        parts.append(
            f'<div class="pair"><h3>{_e(pair.first)} ↔ {_e(pair.second)}: '
            f"{pair.count} mistakes</h3>"
        )
        for texts, want, got in (
            (pair.first_as_second, pair.first, pair.second),
            (pair.second_as_first, pair.second, pair.first),
        ):
            if not texts:
                continue
            parts.append(f"<p>{len(texts)} of {_e(want)} taken for {_e(got)}:</p><ul>")
            parts += [f"<li>{_e(text)}</li>" for text in texts[:EXAMPLES_PER_DIRECTION]]
            if len(texts) > EXAMPLES_PER_DIRECTION:
                parts.append(f"<li>… and {len(texts) - EXAMPLES_PER_DIRECTION} more</li>")
            parts.append("</ul>")
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
