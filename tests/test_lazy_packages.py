"""The lazy packages (``metanet.zoo``, ``metanet.loop``, ``metanet.inspect``; :mod:`metanet._lazy`): their public
names and submodules are what they were when the packages imported every submodule eagerly, in whatever order a
program imports them."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from process_helpers import ROOT


def test_a_function_named_as_its_submodule_stays_the_function_whichever_is_imported_first():
    # `import metanet.zoo.build` binds the submodule as the package's attribute `build`, shadowing the function
    code = textwrap.dedent("""
        import sys, types
        import metanet.zoo.build, metanet.loop.refine
        import metanet.zoo, metanet.loop
        assert 'metanet.zoo.dataset' not in sys.modules  # what the build does not use is not imported (PyG)
        assert metanet.zoo.build is sys.modules['metanet.zoo.build'].build, metanet.zoo.build
        assert metanet.loop.refine is sys.modules['metanet.loop.refine'].refine, metanet.loop.refine
        from metanet.zoo import build, merge
        from metanet.loop import refine
        assert callable(build) and callable(refine) and merge is sys.modules['metanet.zoo.build'].merge
        # a submodule by attribute, as after the eager imports
        assert isinstance(metanet.zoo.store, types.ModuleType) and metanet.zoo.store.Store is metanet.zoo.Store
        assert metanet.zoo.train.train_one is metanet.zoo.train_one and metanet.loop.core.improve is metanet.loop.improve
        from metanet.zoo import *  # noqa: F403
        from metanet.loop import *  # noqa: F403
        from metanet.inspect import *  # noqa: F403
        assert ZooDataset.__module__ == 'metanet.zoo.dataset' and Reward.__module__ == 'metanet.loop.rewards'
        assert NeuronDB.__module__ == 'metanet.inspect.db' and callable(save_pictures)
        for package in (metanet.zoo, metanet.loop, metanet.inspect):
            assert set(package.__all__) <= set(dir(package)), package
        import metanet
        assert callable(metanet.inspect) and metanet.inspect.inspect.__module__ == 'metanet.inspect.analyze'
        print('ok')
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert (r.returncode, r.stdout) == (0, "ok\n"), r.stderr


@pytest.mark.parametrize("package", ["metanet.zoo", "metanet.loop", "metanet.inspect"])
def test_an_unknown_name_is_an_attribute_error(package):
    import importlib

    module = importlib.import_module(package)
    with pytest.raises(AttributeError, match=f"module {package!r} has no attribute 'no_such_name'"):
        module.no_such_name  # noqa: B018
    assert not hasattr(module, "__wrapped__")  # probes of dunder names (doctest, inspect) import nothing


def test_a_submodule_whose_own_import_fails_says_what_is_missing(tmp_path, monkeypatch):
    # an AttributeError "no attribute 'broken'" would hide that a dependency of the submodule is not installed
    pkg = tmp_path / "lazy_pkg_for_test"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("import sys\nfrom metanet._lazy import LazyPackage, lazy_attributes\n"
                                     "__all__ = ['fine']\n"
                                     "__getattr__ = lazy_attributes(__name__, {'fine': 'fine'}, submodules=True)\n"
                                     "sys.modules[__name__].__class__ = LazyPackage\n")
    (pkg / "broken.py").write_text("import no_such_dependency_of_metanet_tests\n")
    (pkg / "fine.py").write_text("def fine():\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import lazy_pkg_for_test as p

    from metanet._lazy import LazyPackage

    try:
        with pytest.raises(ModuleNotFoundError, match="no_such_dependency_of_metanet_tests"):
            p.broken  # noqa: B018
        with pytest.raises(AttributeError):
            p.missing  # noqa: B018
        import lazy_pkg_for_test.fine

        assert p.fine() == 1 and isinstance(p, LazyPackage)
    finally:
        for name in [m for m in sys.modules if m.startswith("lazy_pkg_for_test")]:
            del sys.modules[name]
