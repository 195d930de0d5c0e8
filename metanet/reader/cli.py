"""``metanet read FILE``: what the shipped reader says about a saved network."""

from __future__ import annotations

import argparse
import contextlib
import re
import warnings
from typing import Iterator

from metanet.cli import in_path


def _input_shape(text: str) -> tuple[int, ...]:
    """argparse type of ``read --input-shape``: the shape of one input, channels first, as ``metanet tasks`` prints
    it (``1x8x8``), for ``read(input_shape=...)``; refused while parsing, before the reader loads."""
    try:
        dims = tuple(int(d) for d in text.lower().split("x"))
    except ValueError:
        dims = ()
    if not dims or any(d < 1 for d in dims):
        raise argparse.ArgumentTypeError(f"must be the shape of one input, channels first: whole numbers >= 1 joined "
                                         f"by 'x', e.g. 1x8x8 (8x8 grey images), got {text!r}")
    return dims


#: the prefix of read()'s warnings whose text is also a key of its result (unlike_training, out_of_range)
_READ_WARNING = "metanet.read: "


@contextlib.contextmanager
def _warned_once(json: bool) -> Iterator[None]:
    """Within, read()'s warnings that its result also carries are shown once: without --json the report prints them
    (a WARNING line before the figures), so Python's display of them on stderr is left out; with --json, where stdout
    is the JSON, they are one line on stderr. Python showed them twice, the second time as ".../__main__.py:5:
    UserWarning: metanet.read: ..." plus the source line "sys.exit(main())". Only the display changes: they are
    still warnings (-W error still raises them, catch_warnings still records them)."""
    default = warnings.formatwarning

    def formatwarning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                      line: str | None = None) -> str:
        text = str(message)
        if not text.startswith(_READ_WARNING):
            return default(message, category, filename, lineno, line)
        return f"metanet: warning: {text[len(_READ_WARNING):]}\n" if json else ""

    warnings.formatwarning = formatwarning
    try:
        yield
    finally:
        warnings.formatwarning = default


def _read(args: argparse.Namespace) -> int:
    import math

    from metanet.cli import dumps_json

    from metanet.errors import ConfigError, GraphError
    from metanet.reader.predict import read

    try:
        with _warned_once(args.json):
            out = read(args.file, reader=args.reader, scan=False if args.no_scan else True if args.scan else None,
                       input_shape=args.input_shape)
    except GraphError as e:
        if not args.scan or "read with scan=" not in str(e):
            raise
        # --scan's refusals in the CLI's spelling: read()'s scan=None / scan=False are no flags of the command
        said = str(e).replace("read with scan=None (the default: the scan where it applies) or scan=False",
                              "read without --scan (the scan where it applies) or with --no-scan")
        raise GraphError(said.replace("read with scan=False", "read with --no-scan")) from None
    except ConfigError as e:
        if args.input_shape is None or not str(e).startswith("input_shape "):
            raise
        # in the CLI's spelling: "--input-shape 3x8x8 ... e.g. 1x28x28", not the Python parameter's tuples
        said = re.sub(r"\((\d+(?:, \d+)*),?\)", lambda m: m.group(1).replace(", ", "x"), str(e))
        raise ConfigError("--input-shape" + said[len("input_shape"):]) from None
    if args.json:
        print(dumps_json(out))
        return 0
    hp = out["hyperparameters"]
    print(f"{args.file}")
    if out.get("out_of_range"):  # before the figures, which are no reading of this network
        print(f"  WARNING    {out['out_of_range']}")
    if out.get("unlike_training"):
        print(f"  WARNING    {out['unlike_training']}")
    print(f"  task       {out['task']}  (p={out['task_probabilities'][out['task']]:.2f})"
          + ("; the reader could not run the network on any task's labelled probes (no task of its input size "
             "and class count, or a plain nn.Sequential CNN): task, accuracy and backdoor are guesses"
             if out.get("task_fits") is False else ""))
    if out.get("input_size_unknown"):  # a CNN file without a recorded task: read on 28x28 images, said so
        print(f"  NOTE       {out['input_size_unknown']}")
        print("             (here: metanet read FILE --input-shape 1xHxW)")  # the message names the Python call
    if out.get("recorded_task"):  # the reader names one of its known tasks only: the file's record is the truth
        print(f"  recorded   task {out['recorded_task']} (from the file)")
    print(f"  accuracy   {out['accuracy']:.3f} (predicted test accuracy)")
    names = out.get("class_names")
    if names and names != [str(i) for i in range(len(names))]:  # 0..k-1 for labels 0..k-1 would say nothing
        from metanet.writer.generate import _outputs

        print(f"  outputs    {_outputs(names)}")  # as the file records them, as generate's report shows them
    scan = out.get("trigger_scan")
    how = (f"with the trigger scan; weights alone {scan['reader_only']:.3f}, smallest flipping mask "
           f"{math.exp(scan['min_log_l1']):.1f} inputs") if scan else "weights only"
    if out.get("trigger_scan_skipped"):  # the scan was to run (no --no-scan): say why it did not
        how += f"; {out['trigger_scan_skipped'].replace('read(..., scan=True)', '--scan')}"  # the CLI's spelling
    print(f"  backdoor   {out['backdoor']:.3f} (probability, {how})")
    print(f"  trained    lr~{hp['lr']:.2g}, epoch~{hp['epoch']:.1f}, optimizer {hp['optimizer']}, "
          f"activation {hp['activation']}")
    counts: dict[str, int] = {}
    for n in out["neurons"]:
        # every neuron of a CNN, its hidden Linear units too (they were counted as "CNN channels")
        role = n["role"] if n["role"] is not None else "not read (the reader reads no CNN's roles)"
        counts[role] = counts.get(role, 0) + 1
    # a network without a hidden layer has no roles to count: not a dangling "0 hidden: "
    roles = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    print(f"  neurons    {len(out['neurons'])} hidden" + (f": {roles}" if roles else " (no hidden layer)"))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("read", help="predict a saved network's accuracy, task, backdoor, training and neuron roles")
    p.add_argument("file", type=in_path,
                   help="a network saved with metanet.save (.safetensors, architecture in its header)")
    p.add_argument("--reader", type=in_path, default=None,
                   help="reader checkpoint (default: the one shipped with metanet)")
    p.add_argument("--input-shape", type=_input_shape, default=None, metavar="CxHxW",
                   help="the shape of one input, channels first, e.g. 1x8x8: a CNN's weights do not say which image "
                        "size it reads (without it: the size of the task the file records, else 28x28)")
    p.add_argument("--json", action="store_true", help="print the full prediction dict as JSON (a warning it "
                   "carries, unlike_training or out_of_range, is also one 'metanet: warning:' line on stderr)")
    scan = p.add_mutually_exclusive_group()
    scan.add_argument("--no-scan", action="store_true", help="skip the trigger scan (Neural Cleanse on the network): "
                      "backdoor from the weights-only head")
    scan.add_argument("--scan", action="store_true", help="run the trigger scan also on an input size its head was "
                      "not fitted on (by default it runs only on those), an error where it cannot run")
    p.set_defaults(run=_read)
