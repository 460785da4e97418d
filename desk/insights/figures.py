"""The figures for a date range (and a channel), from the daily tables alone: fast on a year.

Any figure about fewer than 5 conversations (1 to 4) is given as FEWER_THAN_5, never as its
number, so no applicant can be picked out; handoff times need 5 handoffs with that time.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Dict, List

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from desk.insights import store

FEWER_THAN_5 = "fewer than 5"
SMALLEST_GROUP = 5
MAX_DAYS = 366
TOP_TOPICS = 10
TOP_SEARCHES = 10
Figure = int | float | str | None


class BadRange(ValueError):
    """The dates asked for cannot be used; the message says why (HTTP 400)."""


@dataclass(frozen=True)
class Range:
    start: date
    end: date
    channel: str | None = None

    @classmethod
    def parse(cls, start: str | None, end: str | None, channel: str | None = None) -> Range:
        first, last = _date("from", start), _date("to", end)
        if last < first:
            raise BadRange("'to' must not be before 'from'.")
        if (last - first).days + 1 > MAX_DAYS:
            raise BadRange(f"A range can cover at most {MAX_DAYS} days.")
        channel = channel or None  # the page's "All"
        if channel is not None and not (len(channel) <= 64 and channel.isprintable()):
            raise BadRange("'channel' must be a channel name such as instagram or socketio.")
        return cls(first, last, channel or None)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Range:
        """The period of the same length just before this one."""
        return Range(
            self.start - timedelta(days=self.days), self.start - timedelta(days=1), self.channel
        )


def _date(name: str, value: str | None) -> date:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        raise BadRange(f"'{name}' must be a date written YYYY-MM-DD.") from None


def shown(count: int, conversations: int | None = None) -> Figure:
    """A count, unless its group has 1 to 4 conversations."""
    group = count if conversations is None else conversations
    return FEWER_THAN_5 if 0 < group < SMALLEST_GROUP else count


def share(part: int, whole: int) -> Figure:
    if 0 < whole < SMALLEST_GROUP:
        return FEWER_THAN_5
    return round(part / whole, 3) if whole else None


def _where(table: sa.Table, chosen: Range) -> List[sa.ColumnElement]:
    clauses = [table.c.day >= chosen.start.isoformat(), table.c.day <= chosen.end.isoformat()]
    if chosen.channel:
        clauses.append(table.c.channel == chosen.channel)
    return clauses


def figures(db: Connection, chosen: Range) -> Dict[str, Any]:
    """Everything the page, the CSV and the API show for one range."""
    totals = _totals(db, chosen)
    conversations = totals["conversations"]
    result: Dict[str, Any] = {
        "from": chosen.start.isoformat(),
        "to": chosen.end.isoformat(),
        "channel": chosen.channel,
        "conversations": shown(conversations),
        "applicant_messages": shown(totals["messages"], conversations),
        "answered_without_recruiter": shown(totals["contained"], conversations),
        "containment": share(totals["contained"], conversations),
        "handed_over_conversations": shown(totals["handed_off"]),
    }
    for kind, name in (
        ("off_topic", "off_topic"),
        ("not_understood", "not_understood"),
        ("did_you_mean", "did_you_mean_shown"),
        ("safety", "safety_messages"),
    ):
        result[name] = shown(totals[kind], totals[f"{kind}_conversations"])
    result["top_topics"] = top_topics(db, chosen)
    result.update(handoff_figures(db, chosen))
    result.update(search_figures(db, chosen))
    result["per_day"] = per_day(db, chosen)
    result["updated_at"] = store.read_state(db, store.LAST_RUN)
    return result


def _totals(db: Connection, chosen: Range) -> Dict[str, int]:
    columns = [column.name for column in store.daily.c if column.name not in ("day", "channel")]
    query = sa.select(
        *(sa.func.coalesce(sa.func.sum(store.daily.c[name]), 0) for name in columns)
    ).where(*_where(store.daily, chosen))
    row = db.execute(query).one()
    return {name: int(value) for name, value in zip(columns, row, strict=True)}


def _topic_counts(db: Connection, chosen: Range) -> Dict[str, tuple[int, int]]:
    t = store.daily_topics
    query = (
        sa.select(t.c.topic, sa.func.sum(t.c.messages), sa.func.sum(t.c.conversations))
        .where(*_where(t, chosen))
        .group_by(t.c.topic)
    )
    return {topic: (int(messages), int(people)) for topic, messages, people in db.execute(query)}


def top_topics(db: Connection, chosen: Range) -> List[Dict[str, Figure]]:
    """The most asked topics, with the same-length period before for comparison."""
    now, before = _topic_counts(db, chosen), _topic_counts(db, chosen.previous())
    ranked = sorted(now.items(), key=lambda item: (-item[1][0], item[0]))[:TOP_TOPICS]
    found = []
    for topic, (count, people) in ranked:
        earlier, earlier_people = before.get(topic, (0, 0))
        hidden = 0 < people < SMALLEST_GROUP or 0 < earlier_people < SMALLEST_GROUP
        found.append(
            {
                "topic": topic,
                "count": shown(count, people),
                "previous": shown(earlier, earlier_people),
                "change": FEWER_THAN_5 if hidden else count - earlier,
            }
        )
    return found


def _minutes(count: int, median: float | None, p90: float | None) -> Dict[str, Figure]:
    if 0 < count < SMALLEST_GROUP:
        return {"median": FEWER_THAN_5, "p90": FEWER_THAN_5}
    if not count or median is None or p90 is None:
        return {"median": None, "p90": None}
    return {"median": round(median / 60, 1), "p90": round(p90 / 60, 1)}


def _percentiles(db: Connection, column: sa.Column, chosen: Range) -> Dict[str, Figure]:
    """Median and 90th percentile in minutes (linear interpolation, as percentile_cont).

    PostgreSQL computes them where the rows are: a year of handoffs never leaves the database.
    """
    where = [*_where(store.handoffs, chosen), column.isnot(None)]
    if db.dialect.name == "postgresql":
        query = sa.select(
            sa.func.count(),
            sa.func.percentile_cont(0.5).within_group(column),
            sa.func.percentile_cont(0.9).within_group(column),
        ).where(*where)
        count, median, p90 = db.execute(query).one()
        return _minutes(int(count), median, p90)
    values = sorted(float(row[0]) for row in db.execute(sa.select(column).where(*where)))
    if len(values) < 2:
        only = values[0] if values else None
        return _minutes(len(values), only, only)
    p90 = statistics.quantiles(values, n=10, method="inclusive")[-1]
    return _minutes(len(values), statistics.median(values), p90)


def handoff_figures(db: Connection, chosen: Range) -> Dict[str, Any]:
    h = store.handoffs
    query = (
        sa.select(
            h.c.reason,
            sa.func.count(),
            sa.func.sum(h.c.within_promise),
            sa.func.count(h.c.within_promise),
        )
        .where(*_where(h, chosen))
        .group_by(h.c.reason)
    )
    rows = [
        (reason, int(n), int(kept or 0), int(known)) for reason, n, kept, known in db.execute(query)
    ]
    return {
        "handoffs": shown(sum(row[1] for row in rows)),
        "handoff_reasons": [{"reason": row[0], "count": shown(row[1])} for row in sorted(rows)],
        "handoff_minutes_to_claim": _percentiles(db, h.c.claim_s, chosen),
        "handoff_minutes_to_first_reply": _percentiles(db, h.c.reply_s, chosen),
        "handoffs_answered_within_promise": share(
            sum(row[2] for row in rows), sum(row[3] for row in rows)
        ),
    }


def search_figures(db: Connection, chosen: Range) -> Dict[str, Any]:
    s = store.daily_searches
    sums = [
        sa.func.sum(s.c[name])
        for name in ("searches", "empty", "conversations", "empty_conversations")
    ]
    query = (
        sa.select(s.c.job_family, s.c.location, *sums)
        .where(*_where(s, chosen))
        .group_by(s.c.job_family, s.c.location)
    )
    groups = [(family, place, *map(int, counts)) for family, place, *counts in db.execute(query)]
    searches = sum(group[2] for group in groups)
    empty = sum(group[3] for group in groups)
    people = sum(group[4] for group in groups)
    empty_people = sum(group[5] for group in groups)
    ranked = sorted(groups, key=lambda group: (-group[2], group[0], group[1]))[:TOP_SEARCHES]
    return {
        "vacancy_searches": shown(searches, people),
        "vacancy_searches_without_results": shown(empty, empty_people),
        "vacancy_searches_by_family_and_place": [
            {
                "job_family": family,
                "location": place,
                "count": shown(count, group_people),
                "without_results": shown(none, none_people),
            }
            for family, place, count, none, group_people, none_people in ranked
        ],
    }


def per_day(db: Connection, chosen: Range) -> List[Dict[str, Figure]]:
    d = store.daily.c
    query = (
        sa.select(d.day, sa.func.sum(d.conversations), sa.func.sum(d.contained))
        .where(*_where(store.daily, chosen))
        .group_by(d.day)
    )
    found = {day: (int(people), int(contained)) for day, people, contained in db.execute(query)}
    days = []
    for offset in range(chosen.days):
        day = (chosen.start + timedelta(days=offset)).isoformat()
        people, contained = found.get(day, (0, 0))
        days.append(
            {"day": day, "conversations": shown(people), "containment": share(contained, people)}
        )
    return days


def channels(db: Connection) -> List[str]:
    """The channels seen, for the page's filter."""
    query = sa.select(store.daily.c.channel).distinct().order_by(store.daily.c.channel)
    return [row[0] for row in db.execute(query)]
