"""nlu/data/closings.yml is what its generator writes, and it balances the categories."""

from __future__ import annotations

import yaml

from nlu.intents import CATEGORY_CODES
from nlu.tools import gen_closings


def test_committed_file_matches_the_generator():
    assert gen_closings.OUT.read_text(encoding="utf-8") == gen_closings.build()


def test_every_category_gets_the_same_number_of_wrapped_reports():
    blocks = yaml.safe_load(gen_closings.build())["nlu"]
    counts = {b["intent"]: len(b["examples"].splitlines()) for b in blocks}
    assert counts == dict.fromkeys(CATEGORY_CODES, gen_closings.PER_CATEGORY)
    texts = [line for b in blocks for line in b["examples"].splitlines()]
    assert all(any(c.strip() in t for c in gen_closings.CLOSINGS) for t in texts)
