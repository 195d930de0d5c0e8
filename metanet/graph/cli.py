"""``metanet graph FILE [--plot out.png] [--json]``: what a saved network looks like as a neural graph."""

from __future__ import annotations

import argparse
from pathlib import Path

from metanet.cli import dumps_json, in_path, out_file, positive_int

#: the largest image side matplotlib's Agg renderer draws, in pixels
_MAX_PIXELS = 65535
#: the lowest --dpi: below it FreeType cannot size the plot's 8-point labels (a RuntimeError traceback at --dpi 1-4)
_MIN_DPI = 10


def _dpi(text: str) -> int:
    """argparse type of --dpi: a whole number >= :data:`_MIN_DPI`, refused while parsing (before the drawing)."""
    value = positive_int(text)
    if value < _MIN_DPI:
        raise argparse.ArgumentTypeError(f"must be a whole number >= {_MIN_DPI} (the labels cannot be drawn smaller), "
                                         f"got {text!r}")
    return value


def _graph(args: argparse.Namespace) -> int:
    from metanet.errors import FileFormatError
    from metanet.graph import describe, plot, to_graph
    from metanet.io import load

    if args.plot is not None:
        args.plot = str(out_file(args.plot, "--plot", "graph.png"))  # '~' expanded: a folder './~' was made
    graph = to_graph(load(args.file))
    desc = describe(graph)
    if args.json:
        out = desc.to_dict()
        if out["spec"].get("family") == "mlp":
            # Arch's cnn-only fields, which mean nothing for an MLP; only in this printout: the same dict is the
            # canonical spec that graphs and zoo indexes store, and Arch.from_dict fills the defaults back in
            out["spec"] = {k: v for k, v in out["spec"].items() if k not in ("kernel", "stride")}
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
        inches = max(fig.get_size_inches())
        if inches * args.dpi > _MAX_PIXELS:  # matplotlib's renderer draws at most 65535 pixels a side
            w, h = (round(v * args.dpi) for v in fig.get_size_inches())
            raise FileFormatError(f"--dpi {args.dpi} makes a {w}x{h}-pixel image, larger than can be drawn "
                                  f"({_MAX_PIXELS} pixels a side); give --dpi <= {int(_MAX_PIXELS // inches)}")
        import io

        from metanet.io import atomic_write

        image = io.BytesIO()  # drawn in memory first: a failed drawing leaves no file or new folder behind
        try:
            fig.savefig(image, dpi=args.dpi, format=suffix)
        except MemoryError:
            raise FileFormatError(f"not enough memory to draw {args.plot!r} at --dpi {args.dpi}; give a lower "
                                  f"--dpi (default 120)") from None
        except RuntimeError as e:  # e.g. .pgf needs a LaTeX install ('xelatex' not found): a raw traceback before
            raise FileFormatError(f"cannot write a plot to {args.plot!r} as {suffix}: {' '.join(str(e).split())}; "
                                  "write another image type, e.g. .png, .svg or .pdf") from None
        atomic_write(args.plot, lambda tmp: Path(tmp).write_bytes(image.getbuffer()))
    if args.json:
        print(dumps_json(out))
    else:
        print(desc)
        if args.plot:
            print(f"plot written to {args.plot}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("graph", help="describe a saved network as a neural graph (and draw it)")
    p.add_argument("file", type=in_path, help="a network saved with metanet.save (.safetensors)")
    p.add_argument("--plot", metavar="PNG", help="draw the network's graph to this image file")
    p.add_argument("--dpi", type=_dpi, default=120, help=f"resolution of --plot (default 120, at least {_MIN_DPI})")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=_graph)
