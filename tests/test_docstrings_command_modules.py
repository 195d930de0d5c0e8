"""The checks of ``test_docstrings`` (a docstring on every public name, ``Args:`` naming exactly the parameters,
``Raises:`` naming exceptions) on the modules with an ``__all__`` that it leaves out: the command-line modules
``metanet.cli``, ``metanet.demo`` and ``metanet.train``. ``cli.build_parser``, ``demo.register`` and
``train.cli_main`` had no docstring."""

from __future__ import annotations

import test_docstrings as td

MODULES = ["metanet.cli", "metanet.demo", "metanet.train"]


def _api(monkeypatch) -> list:
    monkeypatch.setattr(td, "PACKAGES", MODULES)
    api = list(td.public_api())
    assert {q.rsplit(".", 1)[-1] for q, *_ in api} >= {"main", "run_demo", "cli_main", "build_parser", "register"}
    return api


def test_command_modules_public_names_have_docstrings(monkeypatch):
    missing = [q for q, obj, fn, _ in _api(monkeypatch) if not (td._doc(obj, fn) or "").strip()]
    assert not missing, "public names without a docstring:\n  " + "\n  ".join(missing)


def test_command_modules_args_and_raises_sections(monkeypatch):
    wrong = []
    for q, obj, fn, bound in _api(monkeypatch):
        doc = td._doc(obj, fn)
        if fn is not None and (problem := td.args_mismatch(doc, fn, bound)):
            wrong.append(f"{q}: {problem}")
        wrong += [f"{q}: Raises {n!r}" for n in td.section_entries(doc, "Raises") or [] if not td._is_exception(n)]
    assert not wrong, "\n  ".join(wrong)
