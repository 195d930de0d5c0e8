"""What the ``metanet`` command imports before it does anything: building the parser (``--help``, ``--version``, a
usage error, every subcommand's ``--help``) loads no PyTorch, NumPy, PyG, Lightning or matplotlib. Registering the
zoo, loop, inspect and demo commands imported their packages, which imported PyTorch (~1.5-3 s for every
``metanet --help``)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from process_helpers import ROOT

#: libraries no parser needs (each costs from 0.1 s, numpy, to several seconds, torch)
HEAVY = ["torch", "numpy", "safetensors", "torch_geometric", "lightning", "pytorch_lightning", "matplotlib",
         "sklearn", "scipy", "pandas", "yaml", "jsonargparse"]


def _heavy_after(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints a JSON value, to which the heavy modules loaded are added."""
    script = textwrap.dedent(code) + f"\nimport sys, json\nprint(json.dumps(sorted(m for m in {HEAVY!r} " \
                                     "if m in sys.modules)))\n"
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    *out, heavy = r.stdout.strip().splitlines()
    return {"out": json.loads(out[-1]) if out else None, "heavy": json.loads(heavy)}


def test_help_version_usage_errors_and_every_subcommands_help_load_no_heavy_library():
    r = _heavy_after("""
        import argparse, contextlib, io, json
        from metanet.cli import build_parser, main

        def commands(sub, prefix):
            for name, p in sub.choices.items():
                yield [*prefix, name]
                for a in p._actions:
                    if isinstance(a, argparse._SubParsersAction):
                        yield from commands(a, [*prefix, name])

        parser = build_parser()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        # `metanet train` hands its arguments to LightningCLI, which is Lightning itself
        argvs = [["--help"], ["--version"], [], ["verify"], ["zoo", "info"], ["no-such-command"]]
        argvs += [[*c, "--help"] for c in commands(sub, []) if c[0] != "train"]
        codes = {}
        for argv in argvs:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                try:
                    code = main(argv)
                except SystemExit as e:
                    code = e.code
            codes[" ".join(argv)] = code
        print(json.dumps(codes))
    """)
    codes = r["out"]
    assert {"zoo build --help", "zoo info --help", "inspect --help", "improve --help", "refine --help",
            "edit --help", "demo --help", "generate --help", "read --help"} <= set(codes)
    assert codes["--help"] == codes["--version"] == codes["zoo build --help"] == 0
    assert codes[""] == codes["verify"] == codes["zoo info"] == codes["no-such-command"] == 2
    assert r["heavy"] == []


def test_the_packages_the_commands_live_in_load_no_torch():
    # `import metanet.zoo` (metanet.loop, metanet.inspect) imported every submodule, and so PyTorch
    r = _heavy_after("import metanet.zoo, metanet.loop, metanet.inspect, metanet.demo\nprint('null')")
    assert r["heavy"] == []
