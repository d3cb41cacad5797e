"""Classification metrics in plain Python (no scikit-learn in the app's environment)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from nlu.intervals import Interval, bootstrap_f1, percentile, wilson

NO_CATEGORY = "(none)"
# Thresholds of the precision/coverage table (the province chooses one: NLU_CONFIDENCE_THRESHOLD).
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
# Thresholds tried when a triage budget picks one (budget_threshold): every hundredth.
BUDGET_THRESHOLDS = tuple(round(0.30 + step / 100, 2) for step in range(70))
CALIBRATION_BINS = 10


@dataclass(frozen=True)
class RoutingRow:
    """What a confidence threshold does: the share routed automatically (a category at or
    above the threshold), how many of those go to the right category, the share left to an
    operator (triage)."""

    threshold: float
    routed: float
    precision: float
    triage: float
    precision_interval: Interval = (0.0, 1.0)  # 95 %, Wilson (nlu.intervals)


@dataclass(frozen=True)
class ClassScore:
    """Precision, recall and F1 of one class, with its support (gold count)."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Report:
    """The result of comparing gold labels with predictions."""

    total: int
    accuracy: float
    macro_f1: float
    per_class: dict[str, ClassScore]
    confusions: list[tuple[str, str, int]]
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    errors: list[tuple[str, str, str]] = field(default_factory=list)
    threshold: float | None = None  # the configured one, reported first
    routing: list[RoutingRow] = field(default_factory=list)
    calibration_error: float | None = None  # expected calibration error (ECE)
    triage_budget: float | None = None  # the share an operator may take (budget_threshold)
    budget_row: RoutingRow | None = None  # the threshold that budget picks, and what it does
    # 95 % bootstrap intervals of each class's F1 and of macro-F1 (nlu.intervals)
    f1_intervals: dict[str, Interval] = field(default_factory=dict)
    macro_f1_interval: Interval | None = None


def routing_table(
    gold: Sequence[str],
    predicted: Sequence[str | None],
    confidences: Sequence[float],
    thresholds: Iterable[float] = THRESHOLDS,
) -> list[RoutingRow]:
    """Routed share, its precision and the triage share for each threshold, as the intake
    decides (webapp.services.casework.classification): a category at or above the threshold is
    routed; anything else (below it, a chat intent, no answer) waits for an operator."""
    rows = []
    total = len(gold)
    for threshold in sorted(set(thresholds)):
        routed = [
            g == p
            for g, p, c in zip(gold, predicted, confidences, strict=True)
            if p is not None and c >= threshold
        ]
        share, right = _ratio(len(routed), total), sum(routed)
        precision, interval = _ratio(right, len(routed)), wilson(right, len(routed))
        rows.append(RoutingRow(threshold, share, precision, 1 - share, interval))
    return rows


def budget_threshold(
    gold: Sequence[str],
    predicted: Sequence[str | None],
    confidences: Sequence[float],
    budget: float,
) -> RoutingRow | None:
    """The threshold a triage budget picks: of the thresholds whose triage share stays within
    `budget`, the one whose routed reports go most often to the right category (the lowest
    such, so the most routed); None when no threshold keeps triage within it.

    A wrong agency costs the resident days (a transfer), triage costs an operator minutes:
    the province says how much triage it can staff, and within that, precision comes first.
    """
    rows = routing_table(gold, predicted, confidences, BUDGET_THRESHOLDS)
    within = [row for row in rows if row.triage <= budget + 1e-9]
    return max(within, key=lambda row: (row.precision, -row.threshold), default=None)


def calibration_error(
    gold: Sequence[str],
    predicted: Sequence[str | None],
    confidences: Sequence[float],
    bins: int = CALIBRATION_BINS,
) -> float:
    """Expected calibration error: in equal-width confidence bins, the gap between the mean
    confidence and the share right, weighted by the bin's size (0 is perfectly calibrated)."""
    buckets: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for g, p, c in zip(gold, predicted, confidences, strict=True):
        index = min(int(c * bins), bins - 1) if c > 0 else 0
        buckets[index].append((c, g == p))
    total = len(gold)
    gap = 0.0
    for bucket in buckets:
        if bucket:
            mean_confidence = sum(c for c, _ in bucket) / len(bucket)
            right = sum(1 for _, ok in bucket if ok) / len(bucket)
            gap += len(bucket) / total * abs(mean_confidence - right)
    return gap


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def evaluate(
    gold: Sequence[str],
    predicted: Sequence[str | None],
    *,
    labels: Iterable[str] | None = None,
    latencies_ms: Sequence[float] | None = None,
    texts: Sequence[str] | None = None,
    top_confusions: int = 10,
    confidences: Sequence[float] | None = None,
    threshold: float | None = None,
    triage_budget: float | None = None,
    intervals: bool = True,
) -> Report:
    """Compare predictions with gold labels.

    Macro-F1 averages the F1 of ``labels`` (default: the labels present in ``gold``), so a
    prediction outside them (a chat intent, or None, counted as "(none)") is a miss for its
    gold class without adding a class of its own to the average. With `intervals`, each F1,
    macro-F1 and each routed precision come with a 95 % confidence interval.
    """
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted must have the same length")
    preds = [p if p is not None else NO_CATEGORY for p in predicted]
    label_list = sorted(set(labels) if labels is not None else set(gold))

    true_pos: Counter[str] = Counter()
    gold_count: Counter[str] = Counter(gold)
    pred_count: Counter[str] = Counter(preds)
    confusion: Counter[tuple[str, str]] = Counter()
    errors: list[tuple[str, str, str]] = []
    for index, (g, p) in enumerate(zip(gold, preds, strict=True)):
        if g == p:
            true_pos[g] += 1
        else:
            confusion[(g, p)] += 1
            errors.append((texts[index] if texts else str(index), g, p))

    per_class: dict[str, ClassScore] = {}
    for label in label_list:
        precision = _ratio(true_pos[label], pred_count[label])
        recall = _ratio(true_pos[label], gold_count[label])
        f1 = _ratio(2 * true_pos[label], pred_count[label] + gold_count[label])
        per_class[label] = ClassScore(label, precision, recall, f1, gold_count[label])

    total = len(gold)
    accuracy = _ratio(sum(true_pos.values()), total)
    macro_f1 = sum(s.f1 for s in per_class.values()) / len(per_class) if per_class else 0.0
    ranked = sorted(confusion.items(), key=lambda item: (-item[1], item[0]))
    confusions = [(g, p, n) for (g, p), n in ranked[:top_confusions]]
    f1_intervals, macro_interval = (
        bootstrap_f1(gold, preds, label_list) if intervals else ({}, None)
    )

    p50 = p95 = None
    if latencies_ms:
        p50 = percentile(latencies_ms, 50)
        p95 = percentile(latencies_ms, 95)
    routing, ece, budget_row = [], None, None
    if confidences is not None:
        shown = {*THRESHOLDS, *([threshold] if threshold is not None else [])}
        routing = routing_table(gold, predicted, confidences, shown)
        ece = calibration_error(gold, predicted, confidences)
        if triage_budget is not None:
            budget_row = budget_threshold(gold, predicted, confidences, triage_budget)
    return Report(
        total, accuracy, macro_f1, per_class, confusions, p50, p95, errors, threshold, routing,
        ece, triage_budget, budget_row, f1_intervals, macro_interval,
    )  # fmt: skip


def format_report(report: Report, *, show_errors: bool = False) -> str:
    """A human-readable summary of a report."""
    lines = [
        f"messages     {report.total}",
        f"accuracy     {report.accuracy:.3f}",
        f"macro-F1     {report.macro_f1:.3f}{_between(report.macro_f1_interval, '.3f')}",
    ]
    if report.latency_p50_ms is not None and report.latency_p95_ms is not None:
        lines.append(f"latency p50  {report.latency_p50_ms:.1f} ms")
        lines.append(f"latency p95  {report.latency_p95_ms:.1f} ms")
    lines.append("")
    shown = " F1 95% CI" if report.f1_intervals else ""
    lines.append(f"{'class':22} {'prec':>6} {'recall':>6} {'F1':>6} {'n':>4}{shown}")
    for score in report.per_class.values():
        interval = report.f1_intervals.get(score.label)
        lines.append(
            f"{score.label:22} {score.precision:6.3f} {score.recall:6.3f} "
            f"{score.f1:6.3f} {score.support:4d}"
            + (f"  {interval[0]:.2f}–{interval[1]:.2f}" if interval else "")
        )
    if report.confusions:
        lines.append("")
        lines.append("most frequent confusions (gold -> predicted):")
        for g, p, n in report.confusions:
            lines.append(f"  {n:3d}  {g} -> {p}")
    lines.extend(_format_routing(report))
    if show_errors and report.errors:
        lines.append("")
        lines.append("errors:")
        for text, g, p in report.errors:
            lines.append(f"  [{g} -> {p}] {text}")
    return "\n".join(lines)


def _between(interval: Interval | None, spec: str) -> str:
    """ " (95 % CI 0.912–0.961)", or nothing without an interval."""
    if interval is None:
        return ""
    return f" (95% CI {format(interval[0], spec)}–{format(interval[1], spec)})"


def _format_routing(report: Report) -> list[str]:
    if not report.routing:
        return []
    lines = [""]
    chosen = next((r for r in report.routing if r.threshold == report.threshold), None)
    if chosen is not None:
        lines.append(
            f"at the threshold {chosen.threshold:.2f}: routed {chosen.routed:.1%}, of which to "
            f"the right category {chosen.precision:.1%}"
            f"{_between(chosen.precision_interval, '.1%')}; triage {chosen.triage:.1%}"
        )
    lines.append(f"{'threshold':>9} {'routed':>7} {'precision':>9} {'triage':>7}")
    for row in report.routing:
        mark = "  <- configured" if row.threshold == report.threshold else ""
        lines.append(
            f"{row.threshold:9.2f} {row.routed:7.1%} {row.precision:9.1%} {row.triage:7.1%}{mark}"
        )
    if report.calibration_error is not None:
        lines.append(
            f"calibration error (ECE, {CALIBRATION_BINS} bins)  {report.calibration_error:.3f}"
        )
    if report.triage_budget is not None:
        row = report.budget_row
        lines.append(
            f"for a triage budget of {report.triage_budget:.0%}: threshold {row.threshold:.2f},"
            f" routed {row.routed:.1%}, of which to the right category {row.precision:.1%}"
            f"{_between(row.precision_interval, '.1%')}; triage {row.triage:.1%}"
            if row is not None
            else f"for a triage budget of {report.triage_budget:.0%}: no threshold keeps"
            " triage within it"
        )
    return lines
