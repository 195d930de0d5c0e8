"""The ``Attributes:`` section of every public dataclass names exactly its fields: ``Report`` documented seven of
its eight (``extra``, which the loop and ``refine`` fill, was missing), and a renamed or added field would leave
the section stale unnoticed (``test_docstrings`` checks ``Args:``, not ``Attributes:``).

An entry may name two fields on one line (``task: task name; split: which split was used``).
"""

from __future__ import annotations

import dataclasses
import inspect
import re

from test_docstrings import _doc, public_api, section_entries

# a second name on an entry's line: "...; split: which split", "...; ``bias``: of the bias"
_INLINE = re.compile(r";\s*(?:``)?(\w+)(?:``)?\s*:")


def entry_lines(doc: str, title: str) -> list[str]:
    """The entry lines of section ``title``: those at its entries' indentation (continuations left out)."""
    lines = inspect.cleandoc(doc).splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f"{title}:")
    base = len(lines[start]) - len(lines[start].lstrip())
    out: list[str] = []
    indent = None
    for line in lines[start + 1:]:
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        if depth <= base:
            break
        indent = depth if indent is None else indent
        if depth == indent:
            out.append(line)
    return out


def documented_attributes(doc: str) -> set[str] | None:
    entries = section_entries(doc, "Attributes")
    if entries is None:
        return None
    return set(entries) | {n for line in entry_lines(doc, "Attributes") for n in _INLINE.findall(line)}


def test_attributes_sections_of_dataclasses_name_exactly_their_fields():
    wrong, checked = [], 0
    for q, obj, fn, _ in public_api():
        if not (inspect.isclass(obj) and dataclasses.is_dataclass(obj)):
            continue
        documented = documented_attributes(_doc(obj, fn) or "")
        if documented is None:
            continue
        checked += 1
        fields = {f.name for f in dataclasses.fields(obj)}
        if documented != fields:
            wrong.append(f"{q}: documented but no field {sorted(documented - fields)}, "
                         f"field not documented {sorted(fields - documented)}")
    assert checked >= 5  # Report, RunSpec, EditReport, CrossFit, WeightLayer, LayerSummary
    assert not wrong, "Attributes: sections that do not match the dataclass:\n  " + "\n  ".join(wrong)


def test_the_reader_of_sections_sees_inline_names_and_a_missing_field():
    doc = """Summary.

    Attributes:
        task: task name; split: which split was used.
        weight: the weight's name; ``bias``: of the bias, or None.
        n: a count
            (continued; not: an entry).

    Returns:
        nothing: not an attribute.
    """
    assert documented_attributes(doc) == {"task", "split", "weight", "bias", "n"}
    assert documented_attributes("No sections.") is None
