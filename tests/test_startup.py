"""The ``metanet`` command's start: ``import metanet`` / ``metanet.cli`` load no PyTorch, so a Ctrl-C while the
command's libraries load reaches ``main``'s handler (one line, exit code 130) instead of being a traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from process_helpers import ROOT

# a Ctrl-C that arrives exactly when `module` is first imported, whatever imports it
_INTERRUPT_AT = """
import sys

class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == {module!r}:
            raise KeyboardInterrupt
        return None

sys.meta_path.insert(0, Interrupt())
"""


def _python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def test_import_metanet_and_its_cli_loads_no_torch():
    # metanet/__init__.py imported metanet.verify (and with it torch, ~1.5 s) eagerly: a Ctrl-C then was a traceback
    r = _python("import sys, metanet, metanet.cli, metanet.errors\n"
                "print(sorted(m for m in ('torch', 'numpy', 'metanet.verify') if m in sys.modules))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_verify_and_report_load_on_first_use_and_stay_the_function():
    # the package first, then the submodule: binding the submodule as the package attribute must not shadow verify
    r = _python("""
        import sys, metanet
        assert 'metanet.verify' not in sys.modules
        assert {'verify', 'Report'} <= set(dir(metanet)) and {'verify', 'Report'} <= set(metanet.__all__)
        report = metanet.Report
        import metanet.verify
        from metanet import verify
        from metanet.verify import Report, verify_stacked
        module = sys.modules['metanet.verify']
        assert metanet.verify is verify is module.verify and metanet.Report is report is Report, metanet.verify
        import metanet.verify
        assert metanet.verify is module.verify
    """)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("module", ["torch", "metanet.commands"])
def test_ctrl_c_while_the_command_loads_is_one_line_and_code_130(module):
    r = _python(_INTERRUPT_AT.format(module=module) + textwrap.dedent("""
        from metanet.cli import main
        sys.exit(main(['generate', 'digits', '--candidates', '1']))
    """))
    assert (r.returncode, r.stderr, r.stdout) == (130, "metanet: interrupted\n", "")


@pytest.mark.parametrize("entry,argv,module", [
    ("metanet", ["generate", "digits", "--candidates", "1"], "torch"),
    # `python -m metanet.train` called LightningCLI outside the handler of `metanet train`
    ("metanet.train", ["fit", "--help"], "lightning"),
])
def test_ctrl_c_at_start_of_python_m(entry, argv, module):
    r = _python(_INTERRUPT_AT.format(module=module) + textwrap.dedent(f"""
        import runpy
        sys.argv = [{entry!r}, *sys.argv[1:]]
        runpy.run_module({entry!r}, run_name='__main__', alter_sys=True)
    """), *argv)
    assert (r.returncode, r.stderr, r.stdout) == (130, "metanet: interrupted\n", "")
