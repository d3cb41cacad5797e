"""axe-core in a Playwright page: the serious and critical WCAG 2.1 A/AA violations it finds.

axe-core comes from the npm registry, installed by `scripts/ensure-services` into the
git-ignored `.cache/npm` of the project, and is injected into the page under test from that
file (no network). The page's context must be opened with `bypass_csp=True`: the site's
Content-Security-Policy forbids inline scripts, and an injected script is one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA, and axe's best practices (landmarks, headings...).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
SEVERE = ("serious", "critical")

_RUN = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({
      target: n.target.map((t) => Array.isArray(t) ? t.join(" >>> ") : t).join(" "),
      impact: n.impact,
      summary: n.failureSummary || "",
    })),
  }));
}"""


def axe_source() -> Path:
    """axe.min.js, or a failure that says how to get it."""
    if not AXE_JS.is_file():
        raise AssertionError(
            f"axe-core is not installed ({AXE_JS} is missing): run scripts/ensure-services "
            "(it installs the pinned axe-core from the npm registry into .cache/npm)"
        )
    return AXE_JS


def severe_violations(page, tags: list[str] | None = None) -> list[dict[str, Any]]:
    """The page's serious and critical violations of `tags` (WCAG 2.1 AA and best practices),
    each with its nodes narrowed to the serious and critical ones."""
    page.add_script_tag(path=str(axe_source()))
    if not page.evaluate("typeof window.axe === 'object'"):
        raise AssertionError(
            "axe-core did not load in the page: open its browser context with bypass_csp=True"
        )
    found = []
    for violation in page.evaluate(_RUN, tags or TAGS):
        nodes = [n for n in violation["nodes"] if (n["impact"] or violation["impact"]) in SEVERE]
        if nodes:
            found.append({**violation, "nodes": nodes})
    return found


def describe(violations: list[dict[str, Any]], limit: int = 8) -> str:
    """Violations as readable lines: rule, impact, help, then the failing elements."""
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:limit]:
            summary = " ".join(node["summary"].split())
            lines.append(f"    {node['target']}  — {summary[:300]}")
        if len(v["nodes"]) > limit:
            lines.append(f"    … and {len(v['nodes']) - limit} more")
    return "\n".join(lines)
