"""The learning loop's decisions, with the Rasa parts replaced by scripted models: when it
trains, what it learns from, a worse candidate refused, a better one promoted and reloaded.
(tests/services/nlu_models/test_learning_simulation.py runs the same loop on real Rasa.)"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from nlu import candidates, manage
from nlu.evaluation import evaluate
from tests.factories import AssignedReportFactory
from webapp.extensions import db
from webapp.models import NluModel
from webapp.services.casework import workflow
from webapp.services.nlu_models import promotion, registry, retrain

GOLD = ["waste", "waste", "pollution", "pollution", "noise"]
HELD_OUT_TEXT = "khói nhà máy bay vào nhà dân"


def test_compare_refuses_a_drop_and_accepts_equal_or_better():
    dev = {"macro_f1": 0.95}
    current = {
        "heldout_vi": {"macro_f1": 0.88, "routed": 0.9, "routed_precision": 0.95},
        "dev": dev,
    }
    better = {"heldout_vi": {"macro_f1": 0.90, "routed": 0.9, "routed_precision": 0.95}, "dev": dev}
    worse = {"heldout_vi": {"macro_f1": 0.90, "routed": 0.9, "routed_precision": 0.93}, "dev": dev}
    assert promotion.compare(better, current).promote
    refused = promotion.compare(worse, current)
    assert not refused.promote
    # 0.9 × 5 % → 0.9 × 7 % of all messages to a wrong agency.
    assert refused.reasons == ["heldout_vi routed to a wrong category 0.045 → 0.063"]
    assert promotion.compare(worse, current, tolerance=0.03).promote
    assert not promotion.compare({"other": {"macro_f1": 1.0}}, current).promote
    assert not promotion.compare({**better, "dev": {"macro_f1": 0.949}}, current).promote


def test_a_right_answer_left_to_triage_is_not_a_wrong_agency():
    """82 of 88 routed right → 81 of 87: precision among routed reads lower (0.932 → 0.931),
    but nobody more goes to a wrong agency: the gate does not refuse it."""
    n = 96
    current = {"heldout_en": {"macro_f1": 0.9, "routed": 88 / n, "routed_precision": 82 / 88}}
    cautious = {"heldout_en": {"macro_f1": 0.9, "routed": 87 / n, "routed_precision": 81 / 87}}
    one_more_wrong = {
        "heldout_en": {"macro_f1": 0.9, "routed": 88 / n, "routed_precision": 81 / 88}
    }
    assert promotion.compare(cautious, current, triage_budget=0.15).promote
    assert not promotion.compare(one_more_wrong, current, triage_budget=0.15).promote
    # The stored figure, when there is one, is the one compared.
    stored = {"heldout_en": {**cautious["heldout_en"], "wrongly_routed": 7 / n}}
    assert not promotion.compare(stored, current).promote


def test_the_held_out_split_is_judged_as_a_whole():
    """A candidate better on the split, but one message worse on a file of 96 (0.915 → 0.905),
    is not refused for that file; a drop of the split as a whole is."""
    split = ["heldout_vi", "heldout_en"]
    current = {
        "heldout_vi": {"macro_f1": 0.900},
        "heldout_en": {"macro_f1": 0.915},
        "heldout": {"macro_f1": 0.950},
        "dev": {"macro_f1": 0.950},
    }
    candidate = {
        **current,
        "heldout_vi": {"macro_f1": 0.940},
        "heldout_en": {"macro_f1": 0.905},
        "heldout": {"macro_f1": 0.955},
    }

    def judged(sets: dict) -> dict:
        return promotion.judged({"sets": sets, "split": split})

    assert not promotion.compare(candidate, current).promote  # file by file, it would be
    decision = promotion.compare(judged(candidate), judged(current))
    assert decision.promote
    assert decision.reasons == ["dev macro-F1 0.950 → 0.950", "heldout macro-F1 0.950 → 0.955"]
    dropped = {**candidate, "heldout": {"macro_f1": 0.949}}
    refused = promotion.compare(judged(dropped), judged(current))
    assert refused.reasons == ["heldout macro-F1 0.950 → 0.949"]
    worse_dev = {**candidate, "dev": {"macro_f1": 0.940}}
    assert not promotion.compare(judged(worse_dev), judged(current)).promote
    # Nothing pooled (one file, or a file itself named "heldout"): every set is judged.
    sets = {"heldout_vi": {}, "heldout": {}, "dev": {}}
    assert promotion.judged({"sets": sets, "split": []}) == sets
    assert promotion.judged({"sets": sets}) == sets


def test_models_scored_on_other_sets_are_not_compared():
    current = {"heldout_vi": {"macro_f1": 0.9}, "dev": {"macro_f1": 0.9}}
    candidate = {**current, "heldout": {"macro_f1": 1.0}}
    refused = promotion.compare(candidate, current)
    assert refused.reasons == ["not scored on the same sets (heldout)"]


def _figures(total: int, routed: int, wrong: int, stored: bool) -> dict:
    """A set's figures as report_figures rounds them (4 decimals), with or without the
    stored wrong share that older history records lack."""
    figures = {
        "total": total,
        "macro_f1": 0.9,
        "routed": round(routed / total, 4),
        "routed_precision": round((routed - wrong) / routed, 4),
    }
    if stored:
        figures["wrongly_routed"] = round(wrong / total, 4)
    return figures


@pytest.mark.parametrize(
    ("total", "routed", "wrong"), [(984, 982, 28), (96, 88, 6), (96, 87, 6), (1000, 811, 25)]
)
def test_the_same_wrong_count_is_never_a_rise_whatever_the_rounding(total, routed, wrong):
    """A record stored before the wrong share was (derived from rounded figures) against a
    candidate's stored share: the same number of wrong answers reads as the same."""
    old = {"set": _figures(total, routed, wrong, stored=False)}
    new = {"set": _figures(total, routed, wrong, stored=True)}
    assert promotion.compare(new, old, triage_budget=0.5).promote
    assert promotion.compare(old, new, triage_budget=0.5).promote
    one_more = {"set": _figures(total, routed, wrong + 1, stored=True)}
    assert not promotion.compare(one_more, old, triage_budget=0.5).promote


def test_a_rise_of_exactly_the_tolerance_is_allowed():
    before = {"set": _figures(1000, 900, 11, stored=True)}
    after = {"set": _figures(1000, 900, 21, stored=True)}  # 0.011 → 0.021
    assert promotion.compare(after, before, tolerance=0.01).promote
    assert not promotion.compare(after, before, tolerance=0.009).promote
    lower = {"set": {**before["set"], "macro_f1": 0.89}}  # 0.900 → 0.890
    assert promotion.compare(lower, before, tolerance=0.01).promote


def test_triage_stays_within_the_budget_or_within_what_serves_now():
    current = {"vi": {"macro_f1": 0.9, "routed": 0.90, "routed_precision": 1.0}}
    over = {"vi": {"macro_f1": 0.9, "routed": 0.80, "routed_precision": 1.0}}
    refused = promotion.compare(over, current, triage_budget=0.15)
    assert refused.reasons == ["vi triage 0.200 over 0.150"]
    assert promotion.compare(over, current).promote  # no budget given: not checked
    # Already over the budget: the candidate may not leave more than the serving model.
    busy = {"vi": {"macro_f1": 0.9, "routed": 0.75, "routed_precision": 1.0}}
    assert promotion.compare(over, busy, triage_budget=0.15).promote
    assert not promotion.compare(busy, over, triage_budget=0.15).promote


@pytest.fixture
def scripted(app, tmp_path, monkeypatch):
    """Models are files whose name says how good they are; scoring reads it."""
    trained: list[dict] = []
    evaluation = tmp_path / "eval.jsonl"
    rows = [{"text": f"message {i}", "category": c} for i, c in enumerate(GOLD)]
    rows.append({"text": HELD_OUT_TEXT, "category": "pollution"})
    evaluation.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    quality = {"good": 0}

    def train_candidate(examples, data_dir=None):
        trained.append(examples)
        path = tmp_path / f"{candidates.candidate_name(examples, data_dir)}.tar.gz"
        path.write_text(str(quality["good"]))
        return path

    def score(model, files, threshold=None):
        right = int(Path(model).read_text()) if Path(model).name.startswith("cand") else 3
        gold = [r["category"] for r in rows]
        predicted = gold[:right] + ["noise"] * (len(gold) - right)
        report = evaluate(gold, predicted, confidences=[0.9] * len(gold), threshold=threshold)
        return {name: report for name in files}

    monkeypatch.setenv("PHANANH_CURRENT_MODEL", str(tmp_path / "current.json"))
    baseline = tmp_path / "baseline.tar.gz"
    baseline.write_text("3")
    monkeypatch.setattr(candidates, "train_candidate", train_candidate)
    monkeypatch.setattr(candidates, "score", score)
    monkeypatch.setattr(manage, "train", lambda **_kw: baseline)
    app.config.update(NLU_EVAL_FILES=f"heldout_vi={evaluation}", NLU_RETRAIN_MIN_EXAMPLES=3)
    return trained, quality


@pytest.fixture
def reload_server(app):
    """A stand-in Rasa replica that records PUT /model."""
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append({"path": self.path, "body": json.loads(body)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app.config["NLU_RELOAD_URLS"] = f"http://127.0.0.1:{server.server_port}"
    yield seen
    server.shutdown()


def _corrections(texts: list[str], corrected: str = "pollution") -> None:
    report = AssignedReportFactory()
    for text in texts:
        workflow.record_event(
            report,
            "category_correction",
            data={"text": text, "predicted": "waste", "corrected": corrected},
        )
    db.session.commit()


def test_waits_for_enough_new_corrections(ctx, scripted):
    trained, _ = scripted
    _corrections(["mùi hôi từ bãi rác bốc lên", "khói đen từ lò gạch"])
    outcome = retrain.run()
    assert outcome.status == "skipped"
    assert outcome.detail == "2 new corrections, 3 needed"
    assert trained == [] and db.session.query(NluModel).count() == 0


def test_worse_candidate_is_refused_and_the_serving_model_stays(ctx, app, scripted, reload_server):
    trained, quality = scripted
    quality["good"] = 1  # the candidate gets 1 of 6 right, the serving model 3
    _corrections(["mùi hôi từ bãi rác", "khói đen lò gạch", HELD_OUT_TEXT, "nước sông đen ngòm"])
    outcome = retrain.run()
    assert outcome.status == "refused"
    assert "heldout_vi macro-F1" in outcome.detail
    # Learnt from the corrections, but never from a text of the evaluation set.
    learnt = ["mùi hôi từ bãi rác", "khói đen lò gạch", "nước sông đen ngòm"]
    assert trained[-1] == {"pollution": learnt}
    serving = registry.current()
    assert serving.name == "baseline" and serving.state == "current"
    assert outcome.candidate.state == "refused" and outcome.candidate.compared_with_id == serving.id
    assert manage.current_model() == manage.model_path()  # the pointer was not moved
    assert reload_server == []
    # The same corrections do not train again; new ones are needed first.
    assert retrain.run().status == "skipped"


def test_better_candidate_is_promoted_reloaded_and_listed(ctx, app, scripted, reload_server):
    _trained, quality = scripted
    quality["good"] = 6
    _corrections(["mùi hôi từ bãi rác", "khói đen lò gạch", "nước sông đen ngòm"])
    outcome = retrain.run()
    assert outcome.status == "promoted", outcome.detail
    assert registry.current().id == outcome.candidate.id
    assert db.session.query(NluModel).filter_by(state="retired").one().name == "baseline"
    assert reload_server == [{"path": "/model", "body": {"model_file": outcome.candidate.path}}]
    pointer = json.loads(manage.pointer_path().read_text())
    assert pointer == {"model": outcome.candidate.path, "base": manage.training_hash()}

    out = app.test_cli_runner().invoke(args=["nlu", "history"]).output
    first, second = out.index(outcome.candidate.name), out.index("baseline")
    assert first < second  # newest first
    assert "examples learnt 3" in out and "macro-F1 1.000" in out and "macro-F1 0." in out


def test_a_new_threshold_scores_the_serving_model_again(ctx, app, scripted, monkeypatch):
    _trained, quality = scripted
    quality["good"] = 1
    _corrections(["mùi hôi từ bãi rác", "khói đen lò gạch", "nước sông đen ngòm"])
    assert retrain.run().status == "refused"
    serving = registry.current()
    assert serving.figures["threshold"] == app.config["NLU_CONFIDENCE_THRESHOLD"]
    scored: list[float | None] = []
    real_score = candidates.score

    def counting(model, files, threshold=None):
        scored.append(threshold)
        return real_score(model, files, threshold)

    monkeypatch.setattr(candidates, "score", counting)
    _corrections(["bụi than bay vào nhà", "nước thải đen chảy ra sông", "mùi sơn từ xưởng"])
    assert retrain.run().status == "refused"
    assert scored == [app.config["NLU_CONFIDENCE_THRESHOLD"]]  # the candidate only
    app.config["NLU_CONFIDENCE_THRESHOLD"] = 0.6
    scored.clear()
    _corrections(["khói lò đốt rác", "mùi hôi trại heo", "bụi xi măng"])
    assert retrain.run().status == "refused"
    assert scored == [0.6, 0.6]  # the serving model again, then the candidate
    assert registry.current().figures["threshold"] == 0.6


def test_one_run_at_a_time(ctx, scripted):
    from webapp.infra import heartbeats

    trained, _ = scripted
    _corrections(["mùi hôi từ bãi rác", "khói đen lò gạch", "nước sông đen ngòm"])
    assert heartbeats.hold_lease(retrain.LEASE, "another-machine", retrain.LEASE_TTL)
    outcome = retrain.run()
    assert (outcome.status, outcome.detail) == ("skipped", "another retrain is running")
    assert trained == []
    heartbeats.release_lease(retrain.LEASE, "another-machine")
    assert retrain.run().status in {"promoted", "refused"}
    # The lease is given back after a run.
    assert heartbeats.hold_lease(retrain.LEASE, "another-machine", retrain.LEASE_TTL)
    heartbeats.release_lease(retrain.LEASE, "another-machine")


def test_the_split_is_scored_together_and_decides(ctx, app, scripted, tmp_path, monkeypatch):
    """With several held-out files the loop also scores them together; a candidate that loses
    on one file but gains on the split as a whole is promoted."""
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    rows = [{"text": f"câu {i}", "category": c} for i, c in enumerate(GOLD)]
    for path in (first, second):
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    app.config["NLU_EVAL_FILES"] = f"heldout_a={first},heldout_b={second}"
    seen: list[dict] = []

    def score(model, files, threshold=None):
        seen.append(dict(files))
        candidate = Path(model).name.startswith("cand")
        reports = {}
        for name in files:
            right = (2 if name == "heldout_b" else 5) if candidate else 3
            predicted = GOLD[:right] + ["noise"] * (len(GOLD) - right)
            reports[name] = evaluate(GOLD, predicted, confidences=[0.9] * 5, threshold=threshold)
        return reports

    monkeypatch.setattr(candidates, "score", score)
    _corrections(["mùi hôi từ bãi rác", "khói đen lò gạch", "nước sông đen ngòm"])
    outcome = retrain.run()
    assert seen[-1]["heldout"] == (first, second)
    assert set(seen[-1]) == {"heldout_a", "heldout_b", "heldout"}
    assert outcome.status == "promoted", outcome.detail
    assert "heldout macro-F1" in outcome.detail and "heldout_b" not in outcome.detail
    sets = outcome.candidate.figures["sets"]
    assert sets["heldout_b"]["macro_f1"] < sets["heldout_a"]["macro_f1"]  # still shown


def test_a_file_named_like_the_split_is_kept_as_a_file(app, tmp_path):
    files = {name: tmp_path / f"{name}.jsonl" for name in ("heldout_a", "heldout_b", "dev")}
    assert retrain.split_names(files) == ["heldout_a", "heldout_b"]
    assert retrain.scored_sets(files)["heldout"] == (files["heldout_a"], files["heldout_b"])
    files["heldout"] = tmp_path / "mine.jsonl"
    assert retrain.split_names(files) == []
    assert retrain.scored_sets(files) == files  # scored as configured, nothing overwritten
    assert retrain.split_names({"heldout_a": files["heldout_a"], "dev": files["dev"]}) == []


def test_figures_stored_before_the_split_are_scored_again(
    ctx, app, scripted, tmp_path, monkeypatch
):
    """A serving model whose figures predate the split as a whole is scored again, so that both
    models are judged on the same sets."""
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    rows = [{"text": f"câu {i}", "category": c} for i, c in enumerate(GOLD)]
    for path in (first, second):
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    app.config["NLU_EVAL_FILES"] = f"heldout_a={first},heldout_b={second}"
    _trained, quality = scripted
    quality["good"] = 1
    _corrections(["mùi hôi từ bãi rác", "khói đen lò gạch", "nước sông đen ngòm"])
    assert retrain.run().status == "refused"
    serving = registry.current()
    old = dict(serving.figures)
    old["sets"] = {k: v for k, v in old["sets"].items() if k != "heldout"}
    del old["split"]
    serving.figures = old  # as stored before the split was scored as a whole
    db.session.commit()
    scored: list[str] = []
    real_score = candidates.score

    def counting(model, files, threshold=None):
        scored.append(Path(model).name)
        return real_score(model, files, threshold)

    monkeypatch.setattr(candidates, "score", counting)
    _corrections(["bụi than bay vào nhà", "nước thải đen chảy ra sông", "mùi sơn từ xưởng"])
    outcome = retrain.run()
    assert scored[0] == Path(serving.path).name and len(scored) == 2  # serving, then candidate
    assert registry.current().figures["split"] == ["heldout_a", "heldout_b"]
    assert "heldout macro-F1" in outcome.detail
