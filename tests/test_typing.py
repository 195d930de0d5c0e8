"""Public type hints as a user's type checker sees them (the package ships py.typed).

The mypy tests need mypy (in the ``dev`` extra, so CI runs them); the others check the same hints at
run time with ``typing``, which also catches a hint naming a name the module never imports (a NameError for
every tool that resolves hints: typing.get_type_hints, pydantic, typer, sphinx).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import tempfile
import textwrap
import typing
from pathlib import Path

import pytest
import torch
from torch import nn

import metanet

# the packages whose hints this file checks function by function (their public classes' methods too)
PACKAGES = ["metanet", "metanet.tasks", "metanet.loop", "metanet.io", "metanet.verify", "metanet.errors"]


def _public_functions():
    for name in PACKAGES:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", ()):
            obj = getattr(module if name != "metanet" else metanet, attr)
            if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismodule(obj) and callable(obj)):
                continue  # constants (__version__, SPLITS), plain submodules
            if inspect.ismodule(obj):  # the callable metanet.inspect: its __call__
                obj = type(obj).__call__
            yield f"{name}.{attr}", obj
            # methods: of the classes of the edited packages (metanet's top level re-exports other areas' classes)
            if inspect.isclass(obj) and name != "metanet":
                for key, member in vars(obj).items():
                    if isinstance(member, (classmethod, staticmethod)):
                        member = member.__func__
                    elif isinstance(member, property):
                        member = member.fget
                    if inspect.isfunction(member) and (not key.startswith("_") or key in ("__init__", "__call__")):
                        yield f"{name}.{attr}.{key}", member


@pytest.mark.parametrize("name,obj", list(_public_functions()), ids=lambda v: v if isinstance(v, str) else "")
def test_hints_resolve_at_run_time(name, obj):
    typing.get_type_hints(obj)  # a NameError here: a hint naming what its module never imports
    if inspect.isfunction(obj):
        for overload in typing.get_overloads(obj):
            typing.get_type_hints(overload)


def _type_checking_block() -> list[ast.stmt]:
    tree = ast.parse(Path(metanet.__file__).read_text())
    blocks = [n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", None) == "TYPE_CHECKING"]
    assert len(blocks) == 1, "metanet/__init__.py needs one `if TYPE_CHECKING:` block naming its lazy attributes"
    return blocks[0].body


def test_lazy_names_are_visible_to_type_checkers():
    """``metanet.generate`` & co. are module ``__getattr__`` attributes: without the TYPE_CHECKING imports a type
    checker saw every one of them as ``Any`` (no checking at all of a user's calls), and a lazy name added later
    must be added there too, bound to the very object the run-time lookup gives."""
    from metanet.inspect import _CallableModule

    bound = {}
    for stmt in _type_checking_block():
        if isinstance(stmt, ast.ImportFrom):
            for alias in stmt.names:
                bound[alias.asname or alias.name] = (stmt.module, alias.name)
        elif isinstance(stmt, ast.AnnAssign):
            bound[stmt.target.id] = None
    assert set(metanet._LAZY) | set(metanet._SUBMODULES) <= set(bound)
    for name, source in bound.items():
        if source is None or name.startswith("_"):  # inspect (below); _CallableModule, the type it is given
            continue
        module, attr = source
        if module == "metanet":  # a submodule
            assert getattr(metanet, name) is importlib.import_module(f"metanet.{attr}"), name
        else:
            assert getattr(metanet, name) is getattr(importlib.import_module(module), attr), name
    # the callable package: a plain module is 'not callable' for a type checker
    assert isinstance(metanet.inspect, _CallableModule)
    assert "inspect" in bound and bound["inspect"] is None


def test_verify_overloads_one_network_gives_a_report_a_list_gives_a_list():
    """The single hint ``-> Report | list[Report]`` made ``metanet.verify(net, task).accuracy`` a type error
    (and ``for r in verify([a, b], task)``), and a Generated (documented input) was rejected."""
    from metanet.verify import Report, _HasModel
    from metanet.writer import Generated

    one, many = typing.get_overloads(metanet.verify)
    h1, h2 = typing.get_type_hints(one), typing.get_type_hints(many)
    assert h1["return"] is Report and h2["return"] == list[Report]
    single = typing.get_args(h1["model"])
    assert {nn.Module, str, os.PathLike, _HasModel} <= set(single)
    assert typing.get_args(h2["model"])[0] == h1["model"]  # Sequence[one network]
    assert typing.get_type_hints(Generated)["model"] is nn.Module  # what the protocol asks of it


def test_refine_hint_takes_a_saved_network_path(tmp_path):
    """refine's docstring takes a saved network's path (and it works), its hint said nn.Module only."""
    from metanet.nets import build

    hints = typing.get_type_hints(metanet.refine)
    assert {str, os.PathLike} <= set(typing.get_args(hints["model"]))
    assert type(None) in typing.get_args(hints["verify_on"])
    path = metanet.save(build("mlp:4-3:relu", seed=0), tmp_path / "a net.safetensors")
    x, y = torch.rand(12, 4), torch.arange(12) % 3
    result = metanet.refine(path, (x, y), steps=1, verify_on=None)
    assert isinstance(result.model, nn.Module) and result.before is None


def test_improve_hints_name_the_writer_and_history():
    """improve returned ``(writer, History)`` with no hint (``Any`` for a user), and its ``log_dir: str | None``
    rejected a Path, which works; History.curve gives None for a round without the stat."""
    from metanet.loop import History
    from metanet.writer import Writer

    hints = typing.get_type_hints(metanet.improve)
    assert hints["return"] == tuple[Writer, History] and hints["writer"] is Writer
    assert os.PathLike[str] in typing.get_args(hints["log_dir"])
    assert typing.get_type_hints(History.curve)["return"] == list[typing.Optional[float]]
    assert History(rounds=[{"a": 1.0}, {}]).curve("a") == [1.0, None]


def test_loop_helpers_take_task_specs_by_hint():
    """evaluate / choose take a name, a Task or examples (as_loop_tasks), but their hints said LoopTask only."""
    from metanet.loop import LoopTask, choose, evaluate

    assert typing.get_type_hints(evaluate)["tasks"] is typing.Any
    assert typing.get_type_hints(choose)["lt"] != LoopTask
    from metanet.io import atomic_write

    assert typing.get_type_hints(atomic_write)["write"] != typing.Any


# ------------------------------------------------------------------------------------------ with mypy
USER_SCRIPT = '''
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

import metanet
from metanet import tasks
from metanet.loop import History, RefineResult, Reward
from metanet.tasks import Task
from metanet.verify import Report


def tour(tmp: Path) -> None:
    g = metanet.generate("a network that can read mnist", candidates=8, seed=0)
    print(g.report)
    model: nn.Module = g.model
    saved: Path = g.save(str(tmp / "mnist-net.safetensors"))

    net = metanet.load(tmp / "mnist-net.safetensors")
    net2: nn.Module = metanet.load(str(saved))
    report = metanet.verify(net, "mnist")
    one: float = report.accuracy
    reports = metanet.verify([net, net], "mnist")
    many: list[float] = [r.accuracy for r in reports]
    by_path: Report = metanet.verify(saved, "digits", split="val")
    of_generated: Report = metanet.verify(g, "mnist")
    pair = torch.rand(10, 1, 28, 28), torch.randint(0, 10, (10,))
    on_examples: Report = metanet.verify(net, pair)
    per_task: dict[str, float] = {t: metanet.verify(net2, t).accuracy for t in ("mnist", "mnist[3,8]")}

    path: Path = metanet.save(net, tmp / "copy.safetensors", note="a copy")
    meta: dict = metanet.load_meta(path)

    r = metanet.read(net)
    print(f"predicted accuracy {r['accuracy']:.2f} on {r['task']}; verified {report.accuracy:.2f}")

    db = metanet.inspect(net, "mnist")
    db.save(tmp / "mnist-net-inspect")
    pruned, edit_report = metanet.edit.prune(net, 0.7, "mnist", method="magnitude")

    writer, history = metanet.improve(metanet.Writer.load(), ["digits"], rounds=1, candidates=2, log_dir=tmp)
    h: History = history
    again = metanet.generate("digits", writer=writer, seed=1)
    refined: RefineResult = metanet.refine(again.model, "digits", method="perturbation", steps=2)
    new_net, before, after, steps = refined
    if before is not None and after is not None:
        gain: float = after.accuracy - before.accuracy
    from_path = metanet.refine(saved, pair, steps=1, verify_on=None)
    reward: Reward = metanet.loop.make_reward("accuracy+size(0.05)")

    task: Task = tasks.get("fashion-mnist[0-4]+permute(3)")
    x, y = task.split("train")
    parsed: Task = tasks.parse("fashion mnist, only sneakers and boots")
    few = tasks.from_examples(x[:500], y[:500], name="my-task")
    g2 = metanet.generate(few, candidates=8)
    g3 = metanet.generate((x[:500], y[:500]))
    resolved: Task = tasks.resolve((x[:100], y[:100]))
    classes: int = resolved.num_classes
'''

# each line a misuse mypy must report: the public names are typed, not Any
MISUSES = '''
import metanet

net = metanet.load("net.safetensors")
metanet.verify([net], "mnist").accuracy
metanet.generate("digits").no_such_attribute
metanet.improve(metanet.Writer.load(), "digits")[1].no_such_attribute
metanet.refine(net, "digits").no_such_attribute
metanet.inspect(net, "digits").no_such_attribute
'''


def _mypy(tmp_path: Path, source: str) -> list[str]:
    from mypy import api  # the dev extra installs it
    script = tmp_path / "user.py"
    script.write_text(textwrap.dedent(source))
    cache = Path(tempfile.gettempdir()) / "metanet-test-mypy-cache"  # analysing torch cold takes ~30 s
    out, err, _ = api.run(["--ignore-missing-imports", "--follow-imports=silent", "--no-error-summary",
                           "--cache-dir", str(cache), str(script)])
    assert not err, err
    return [line for line in out.splitlines() if ": error:" in line]


def test_mypy_accepts_the_readme_tour(tmp_path):
    assert _mypy(tmp_path, USER_SCRIPT) == []


def test_mypy_reports_misuses(tmp_path):
    errors = _mypy(tmp_path, MISUSES)
    lines = {int(e.split(":")[1]) for e in errors}
    assert lines == {5, 6, 7, 8, 9}, errors
