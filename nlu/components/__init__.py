"""Custom Rasa graph components (imported by the Rasa server, Python 3.10).

Rasa's training cache keys a component's output by its class name, config and inputs, not by
its code: after a change to a component, an unchanged config would reuse what the old code
trained. Each component therefore derives from `CodeFingerprinted`, whose `fingerprint_addon`
adds `source_fingerprint()` (a hash of this package and of nlu/normalize.py) to its
fingerprint, so changed code trains anew.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

# A training example and the copies made of it share this attribute (normalizer.py), so that
# calibration folds keep them together (linear_classifier.py).
ORIGIN = "example_origin"

_PACKAGE = Path(__file__).resolve().parent
_SOURCES = (*sorted(_PACKAGE.glob("*.py")), _PACKAGE.parent / "normalize.py")


@functools.cache
def source_fingerprint() -> str:
    """A hash of the components' code and the normaliser they share."""
    digest = hashlib.sha256()
    for path in _SOURCES:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class CodeFingerprinted:
    """Mixin, listed first among a component's bases: its fingerprint covers the code."""

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The components' code, so a change to it trains anew."""
        return source_fingerprint()
