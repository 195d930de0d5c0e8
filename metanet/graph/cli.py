"""``metanet graph FILE [--plot out.png] [--json]``: what a saved network looks like as a neural graph."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from metanet.cli import out_file, positive_int


def _graph(args: argparse.Namespace) -> int:
    from metanet.errors import FileFormatError
    from metanet.graph import describe, plot, to_graph
    from metanet.io import load

    if args.plot is not None:
        out_file(args.plot, "--plot", "graph.png")
    graph = to_graph(load(args.file))
    desc = describe(graph)
    if args.json:
        out = desc.to_dict()
        if args.plot:
            out["plot"] = str(args.plot)
    if args.plot:
        fig = plot(graph)
        kinds = fig.canvas.get_supported_filetypes()
        suffix = Path(args.plot).suffix.lstrip(".").lower()
        if suffix not in kinds:
            raise FileFormatError(
                f"cannot write a plot to {args.plot!r}: unknown image type {suffix!r}; valid: {', '.join(sorted(kinds))}"
            )
        from metanet.io import atomic_write

        atomic_write(args.plot, lambda tmp: fig.savefig(tmp, dpi=args.dpi, format=suffix))
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(desc)
        if args.plot:
            print(f"plot written to {args.plot}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("graph", help="describe a saved network as a neural graph (and draw it)")
    p.add_argument("file", help="a network saved with metanet.save (.safetensors)")
    p.add_argument("--plot", metavar="PNG", help="draw the network's graph to this image file")
    p.add_argument("--dpi", type=positive_int, default=120, help="resolution of --plot (default 120)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=_graph)
