"""The reply templates staff pick from (config/reply_templates.yml)."""

from __future__ import annotations

from config.settings import ROOT


def for_category(category_code: str | None) -> list[str]:
    """Reply templates for a category (config/reply_templates.yml), general ones last."""

    import yaml

    path = ROOT / "config" / "reply_templates.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [*data.get(category_code or "", []), *data.get("*", [])]
