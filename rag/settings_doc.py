"""Render the settings reference (``docs/configuration.md``) from the ``Settings`` classes.

``python -m rag.settings_doc > docs/configuration.md`` regenerates it; a test fails when the file is stale.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic.fields import FieldInfo

from rag.settings import ENV_PREFIX, GROUPS, Settings

HEADER = """# Configuration

Every setting is an environment variable (or a line of a `.env` file in the working directory); command-line
options such as `--index-dir`, `--host` and `--port` override them. Names are `RAG_` plus the field name in upper
case; lists take `a,b` or a JSON list. In code, settings are one `rag.settings.Settings` object grouped by stage
(`settings.search.top_k`); keyword arguments use the flat names (`Settings(top_k=3)`, `settings.replace(top_k=3)`).

Generated from `rag/settings.py` by `python -m rag.settings_doc > docs/configuration.md`; do not edit by hand.
"""


def render() -> str:
    """The whole reference as Markdown."""
    parts = [HEADER]
    for group in GROUPS:
        model = Settings.model_fields[group].annotation
        assert model is not None
        parts.append(f"\n## {group}: {(model.__doc__ or '').strip()}\n")
        parts.append("| variable | default | what it does |\n|---|---|---|")
        for name, info in model.model_fields.items():
            parts.append(f"| `{ENV_PREFIX}{name.upper()}` | {_default(info)} | {_describe(info)} |")
    return "\n".join(parts) + "\n"


def _default(info: FieldInfo) -> str:
    value: Any = info.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, list):
        return "`[]`" if not value else f"`{json.dumps(value)}`"
    return f"`{str(value).lower() if isinstance(value, bool) else value}`"


def _describe(info: FieldInfo) -> str:
    text = (info.description or "").replace("|", "\\|")
    bounds = [f"{op} {getattr(m, attr)}" for m in info.metadata for attr, op in
              (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")) if getattr(m, attr, None) is not None]
    return text + (f" ({', '.join(bounds)})" if bounds else "")


if __name__ == "__main__":
    print(render(), end="")
