"""Catalog texts rendered outside a request: a resident's language, or both."""

from __future__ import annotations

import pytest
from flask_babel import lazy_gettext

from webapp.infra import i18n

CANCEL = lazy_gettext("Hủy")


@pytest.mark.parametrize(
    ("given", "expected"),
    [("en", "en"), ("en-US", "en"), ("EN_gb", "en"), ("vi", "vi"), ("fr", "vi"), (None, "vi")],
)
def test_only_catalog_languages_are_chosen(given, expected):
    assert i18n.normalise(given) == expected


def test_in_language_and_bilingual(ctx):
    assert i18n.in_language(CANCEL, "en") == "Cancel"
    assert i18n.in_language(CANCEL, "vi") == "Hủy"
    assert i18n.bilingual(CANCEL) == "Hủy\nCancel"


def test_outside_an_app_the_vietnamese_text_is_used():
    assert i18n.in_language(CANCEL, "en") == "Hủy"
    assert i18n.bilingual(CANCEL) == "Hủy"
