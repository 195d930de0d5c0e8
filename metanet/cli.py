"""The ``metanet`` command line.

Each subsystem contributes its subcommands through a ``register(subparsers)`` function in its own ``cli``
module (listed in :data:`COMMANDS`), so this file stays a dispatcher. User mistakes (:class:`MetanetError`),
and file-system refusals of a named path (``OSError`` with a filename: read-only, no permission), print one line
and exit with code 2; ``--debug`` shows the traceback instead. The checks every subcommand shares
live here too: the argparse types :func:`positive_int`, :func:`thread_count` (``--threads``), :func:`seed_int`
(``--seed``) and :func:`in_path` (input paths: not blank), and :func:`out_file` / :func:`out_dir` (output paths,
checked before the work whose result they receive); :func:`dumps_json` (every ``--json``) and :func:`meta_on_task`
(the metadata of a network that ``edit``/``refine`` write) and :func:`task_for` (``--task``, or the task the file
records) too.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import copy
import errno
import importlib
import itertools
import json
import os
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from metanet import __version__
from metanet.errors import ConfigError, MetanetError

__all__ = ["main", "build_parser", "COMMANDS", "positive_int", "thread_count", "seed_int", "in_path", "out_file",
           "out_dir", "dumps_json", "json_help", "meta_on_task", "task_for", "MAX_THREADS"]

#: modules whose ``register(subparsers)`` adds subcommands, in the order they appear in ``--help``
COMMANDS = [
    "metanet.commands",
    "metanet.graph.cli",
    "metanet.zoo.cli",
    "metanet.train.cli",
    "metanet.reader.cli",
    "metanet.loop.cli",
    "metanet.inspect.cli",
    "metanet.demo",
]


def positive_int(text: str) -> int:
    """argparse type of counts that must be >= 1 (threads, workers, dpi): refused while parsing, before any work."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


#: the most torch threads a command takes: far more than any machine's cores, far fewer than the ~10,000 at which
#: OpenMP fails to start them (a crash of the process, not an error)
MAX_THREADS = 1024


def thread_count(text: str) -> int:
    """argparse type of ``--threads``: a whole number in [1, :data:`MAX_THREADS`]. Past 2**63
    ``torch.set_num_threads`` raised an overflow traceback, and tens of thousands of threads crashed the process."""
    value = positive_int(text)
    if value > MAX_THREADS:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_THREADS} (this machine has "
                                         f"{os.cpu_count() or 1} cores), got {text!r}")
    return value


def seed_int(text: str) -> int:
    """argparse type of ``--seed``: a whole number in [-2**63, 2**63), what every command's random generators take
    (a larger one was an overflow traceback from torch, after the network and task had been loaded)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, e.g. 0, got {text!r}") from None
    if not -(2**63) <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be a whole number in [-2**63, 2**63) (a 64-bit seed), got {text!r}")
    return value


def in_path(text: str) -> str:
    """argparse type of an input path (a network, a checkpoint, a zoo): not blank. An empty ``--writer ''`` (an unset
    shell variable) silently meant the shipped writer, and an empty FILE was reported as the directory '.'."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"needs a path, got {text!r}")
    return text


def _not_broken_link(p: Path, flag: str, given: str | os.PathLike, what: str) -> None:
    """A broken symbolic link cannot be made a directory: said before the work (mkdir's "File exists" came after it)."""
    if p.is_symlink() and not p.exists():
        with contextlib.suppress(OSError):  # gone meanwhile: nothing to name
            target = os.readlink(p)
            at = "" if p == Path(given) else f": {p}"
            raise ConfigError(f"{flag} {str(given)!r}{at} is a broken symbolic link (to {target}), not a directory; "
                              f"give {what}")


def _parent_is_dir(path: Path, flag: str, what: str) -> None:
    """The nearest existing ancestor of ``path`` must be a directory (it is created below it if missing)."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        _not_broken_link(parent, flag, path, what)  # it would be climbed past, and mkdir fail after the work
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"{flag} {str(path)!r}: {parent} is a file, not a directory; give {what}")
    if not os.access(parent, os.W_OK | os.X_OK):
        where = str(parent)
        if not parent.is_absolute():  # "'.' is not writable" did not say which directory
            try:
                where = f"{parent} ({os.path.abspath(parent)})"
            except OSError:  # the working directory was deleted
                pass
        raise ConfigError(f"{flag} {str(path)!r}: {where} is not writable; give {what} in a writable directory")


def _no_path_problem(path: str | os.PathLike, flag: str) -> None:
    """Refuse a path no file system takes (a NUL byte, a name or path too long), shortened: the OSError printed
    all of a 5,000-character name, and "embedded null byte" was a traceback."""
    from metanet.io import path_problem, shown_path

    # before expanduser: it raised a raw ValueError on '~a\0b', and the unknown '~name' it leaves as it is failed as
    # a raw RuntimeError where the file was finally written (after the work)
    problem = path_problem(str(path))
    if problem:
        raise ConfigError(f"{flag} {shown_path(str(path))} {problem}")


def out_file(path: str | os.PathLike, flag: str = "--out", example: str = "net.safetensors") -> Path:
    """Check an output file path before the (slow) work that precedes writing it: not a directory, not under a file.
    Returns the path that will be written: ``~`` is the home folder, as for every file metanet writes (the check
    looked at a folder './~' that was then not written to).

    Raises:
        ConfigError: naming the path and what would be valid (the CLI prints it on one line, exit code 2).
    """
    if not str(path).strip():
        raise ConfigError(f"{flag} needs a file path, e.g. {example}")
    _no_path_problem(path, flag)
    path = os.path.expanduser(str(path))
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"{flag} {str(path)!r} is a directory; give a file path, e.g. {p / example}")
    if isinstance(path, str) and path.endswith(("/", os.sep)):  # Path() drops the '/': 'new/' wrote 'new'
        raise ConfigError(f"{flag} {str(path)!r} ends in {os.sep!r}, so names a directory; give a file path, e.g. "
                          f"{p / example}")
    _parent_is_dir(p, flag, f"a file path, e.g. {example}")
    if p.is_symlink():  # written through: its target's folder counts (a broken link's was made, wherever it was)
        from metanet.io import _link_target

        try:
            _link_target(p)
        except OSError as e:
            raise ConfigError(f"{flag} {str(path)!r} {e.strerror}") from None
    return p


def out_dir(path: str | os.PathLike, flag: str = "--out") -> Path:
    """Check an output directory path (created if missing) before any work: not an existing file, not under one.
    Returns the directory that will be written, ``~`` expanded (see :func:`out_file`).

    Raises:
        ConfigError: naming the path and what would be valid (the CLI prints it on one line, exit code 2).
    """
    what = "a new or existing directory"
    if not str(path).strip():
        raise ConfigError(f"{flag} needs a directory path ({what})")
    _no_path_problem(path, flag)
    path = os.path.expanduser(str(path))
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ConfigError(f"{flag} {str(path)!r} is an existing file, not a directory; give {what}")
    _not_broken_link(p, flag, path, what)
    if p.is_dir():  # an existing folder is written into: its own permissions count, not its parent's
        if not os.access(p, os.W_OK | os.X_OK):
            raise ConfigError(f"{flag} {str(path)!r} is a directory that is not writable; give {what} you can write to")
        return p
    _parent_is_dir(p, flag, what)
    return p


def dumps_json(obj: Any, **kwargs: Any) -> str:
    """The ``--json`` output of every command: one valid JSON document, indented. NaN and infinities (a broken
    network's loss, a reading of NaN weights), which ``json.dumps`` writes as the invalid ``NaN``/``Infinity``,
    are ``null``."""
    from metanet.io import json_safe

    return json.dumps(json_safe(obj), indent=2, allow_nan=False, **kwargs)


def json_help(keys: dict[str, str]) -> str:
    """The ``--json`` help of a command whose JSON object is its own (not a documented Python result's ``to_dict``):
    it names every key (``keys``: key -> what it holds), so ``--help`` documents the output; the tests hold the
    printed keys to these."""
    listed = "; ".join(f"{k} ({v})" for k, v in keys.items()).replace("%", "%%")  # argparse %-formats help
    return f"print one JSON object instead of the text, with the keys: {listed}"


def meta_on_task(meta: dict[str, Any], task: Any) -> dict[str, Any]:
    """A copy of a saved network's metadata that names ``task`` (a resolved task the network was edited or refined
    on), for the file that ``metanet edit``/``refine`` write. On another task than the file's, ``class_names``
    (output i means class_names[i]) are that task's: the old task's names were kept beside the new task's name, so
    ``metanet read`` named the outputs as the old task and ``metanet inspect`` as the new one."""
    meta = dict(meta)
    if meta.get("task") != task.name:
        names = getattr(task, "class_names", None)
        if names is None:
            meta.pop("class_names", None)  # no names rather than another task's
        else:
            meta["class_names"] = [str(n) for n in names]
    meta["task"] = task.name
    return meta


def task_for(args: argparse.Namespace, meta: dict[str, Any]) -> Any:
    """The resolved task a command on a saved network runs on: ``args.task`` when given, else the task the file's
    metadata ``meta`` records (``metanet verify``, ``inspect`` and ``edit`` default to it alike). A TaskError naming
    the file when neither names one, or when the recorded name is no task metanet can load; and for a blank
    ``--task``."""
    from metanet import tasks
    from metanet.errors import TaskError

    if args.task is not None and not args.task.strip():
        # `--task "$TASK"` with TASK unset: it silently ran on the file's own task, as if --task were not given
        recorded = meta.get("task")
        raise TaskError(f"--task needs a task name, got {args.task!r}; give one of {', '.join(tasks.available())}, "
                        f"or a derived name like 'mnist[3,8]'" + (f"; or leave --task out for the task {args.file} "
                        f"records ({recorded!r})" if isinstance(recorded, str) and recorded.strip() else ""))
    name = args.task or meta.get("task")
    if not name:
        raise TaskError(f"no --task given and {args.file} names no task in its metadata; pass --task NAME "
                        f"(one of {', '.join(tasks.available())}, or a derived name like 'mnist[3,8]')")
    try:
        return tasks.resolve(name)
    except TaskError:
        if args.task or tasks.is_task_name(name):  # a name the user gave, or one of the task grammar: its own error
            raise
        # e.g. a network generated from labelled examples ('examples-1a2b3c4d'): no name gives its data back; the
        # resolver's long list of task forms alone did not say that the file's task was the problem
        # the Python call that takes the examples: `metanet verify` was sent to metanet.inspect
        python = {"verify": "metanet.verify(path, (x, y))",
                  "edit": "the metanet.edit functions take them as the task, e.g. metanet.edit.remove(path, "
                          "neurons, (x, y))"}.get(getattr(args, "command", None),
                                                  "metanet.inspect(path, (x, y)) names the classes as the file "
                                                  "records them (load_meta(path)['class_names'])")
        raise TaskError(f"{args.file} was made for task {name!r}, which metanet cannot load by name; pass "
                        f"--task NAME for a task metanet knows (one of {', '.join(tasks.available())}, or a derived "
                        f"name like 'mnist[3,8]'), or in Python give its examples: {python}") from None


def _stdout_closed(stream: Any = None) -> bool:
    """Whether stdout (or ``stream``) is a pipe whose reader has gone (a BrokenPipeError from anything else is a real
    error)."""
    import select

    try:
        poll = select.poll()
        poll.register((sys.stdout if stream is None else stream).fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poll.poll(0))
    except (OSError, ValueError, AttributeError):  # no file descriptor (captured output), no poll
        return False


def _blank(value: Any) -> bool:
    """An empty string default: ``(default: )`` says nothing."""
    return isinstance(value, str) and not value.strip()


class _DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """argparse's :class:`~argparse.ArgumentDefaultsHelpFormatter`: every option's ``--help`` shows its real default,
    read from the parser itself (so it cannot drift from it). Except where that would say nothing or say it twice: a
    default of None or ``""``, a flag's False/True, a help that already states one (any "default" in it); and an
    option without help gets a line with its default (argparse printed none)."""

    @staticmethod
    def _shows_default(action: argparse.Action) -> bool:
        default = action.default
        # positionals as argparse: only those that may be left out (nargs '?' or '*') have a default that applies
        takes_default = bool(action.option_strings) or action.nargs in (argparse.OPTIONAL, argparse.ZERO_OR_MORE)
        return (takes_default and "default" not in (action.help or "").lower() and default is not None
                and default is not argparse.SUPPRESS and not isinstance(default, bool) and not _blank(default))

    def _format_action(self, action: argparse.Action) -> str:
        if not action.help and self._shows_default(action):  # argparse prints no help line for an empty help
            action = copy.copy(action)
            action.help = "(default: %(default)s)"
        return super()._format_action(action)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return super()._get_help_string(action) if self._shows_default(action) else action.help


class _Parser(argparse.ArgumentParser):
    """The parser of every subcommand (and of theirs, e.g. ``zoo build``): :class:`_DefaultsFormatter` help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _DefaultsFormatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The ``metanet`` argument parser: ``--version``, ``--debug`` and the subcommands each module of
    :data:`COMMANDS` registers (a module whose optional dependencies are not installed is left out)."""
    parser = _Parser(prog="metanet", description="Read and write the weights of neural networks.")
    parser.add_argument("--version", action="version", version=f"metanet {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name is not None and name.startswith(e.name):
                continue  # subsystem not installed in this version
            raise
        module.register(sub)
    # for scripts: which commands print JSON and what the exit codes mean, read from the parsers (cannot drift);
    # they were only in main()'s docstring and, for exit code 1, in `zoo check --help`
    parser.epilog = (f"--json ({', '.join(_json_commands(sub))}) prints one JSON document on stdout, NaN and "
                     "infinities as null; errors, warnings and progress go to stderr. Exit status: 0 done, 1 a check "
                     "that found problems (zoo check), 2 a usage error or a path the file system refuses, 130 "
                     "interrupted (Ctrl-C), 141 stdout closed by its reader, 143 terminated (SIGTERM).")
    return parser


def _json_commands(sub: argparse._SubParsersAction) -> list[str]:
    """The (sub)commands that take ``--json``, as typed: ``verify``, ``zoo check``."""
    names = []
    for name, p in sub.choices.items():
        for action in p._actions:
            if "--json" in action.option_strings:
                names.append(name)
            elif isinstance(action, argparse._SubParsersAction):
                names += [f"{name} {n}" for n in _json_commands(action)]
    return names


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``metanet ARGV...``; returns the exit code: 0 done, 1 a check that found problems (``zoo check``), 2 a
    user mistake or a path the file system refuses (one line on stderr), 130 interrupted (Ctrl-C), 141 stdout
    closed by its reader (``metanet ... | head -1``), 143 terminated (SIGTERM: ``kill``, ``timeout``, Slurm; files
    being written are removed, finished ones kept, as after a Ctrl-C)."""
    _replace_unencodable()
    try:
        os.getcwd()
    except FileNotFoundError:
        # PyTorch cannot even load there (a fatal "Cannot load libtorch_cpu.so" from MKL, which sounds like a broken
        # install), and relative paths name nothing
        print("metanet: error: the working directory no longer exists (deleted); cd into an existing directory",
              file=sys.stderr)
        return 2
    args = list(sys.argv[1:] if argv is None else argv)
    leading = list(itertools.takewhile(lambda a: a.startswith("-"), args))  # the options before the command
    _EVENT_THREADS.enter()
    try:
        try:
            # also `metanet train`: its setup and its fit-end export (where Lightning has put SIGTERM back) were
            # killed with no cleanup; during the fit Lightning's own handler stops it at the end of a batch
            with _sigterm_raises(), warnings.catch_warnings():
                # torch deprecated torch.jit.script, which PyTorch Geometric calls as it is imported (a
                # DeprecationWarning shown under -W default / PYTHONWARNINGS=default): nothing a user of the command
                # can change. Scoped to the command, so a caller's own use still warns after main() returns
                warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated",
                                        category=DeprecationWarning, module=r"torch\.jit\._script")
                code = _main(args)
        except SystemExit:
            # --help, --version and usage errors leave through argparse's exit: their text is flushed here, so a
            # reader that closed the pipe is handled below, not an "Exception ignored ... BrokenPipeError" at exit
            _flush_output()
            raise
        _flush_output()  # what the command printed (`metanet train` too)
        return _event_thread_failures(code, debug="--debug" in leading)
    except BrokenPipeError:
        if "--debug" in leading or not (_stdout_closed() or _stdout_closed(sys.stderr)):
            raise
        # `metanet ... | head -1`: stop quietly, like other command-line tools (exit code 128 + SIGPIPE)
        _discard_output()
        return 141
    except KeyboardInterrupt:
        # also while the command's libraries load or `metanet train` parses its config (outside _main's handler):
        # a Ctrl-C there was a traceback of whichever import it hit
        print("metanet: interrupted", file=sys.stderr)
        return 130
    except _Terminated:
        print("metanet: terminated (SIGTERM)", file=sys.stderr)
        return 143
    finally:
        _EVENT_THREADS.exit()


class _Terminated(BaseException):
    """SIGTERM (``kill``, ``timeout``, systemd, Slurm, Ray) as an exception of the main thread: the cleanups run
    (temporary files beside the outputs removed, progress bars closed, a zoo's SQLite transaction rolled back),
    which Python's default SIGTERM (the process ends at once) skipped."""


def _on_sigterm(signum: int, frame: Any) -> None:
    if signal.getsignal(signal.SIGTERM) is not _on_sigterm:
        # called by a handler that took over and chains to the one it found: Lightning's, during a fit (it stops the
        # fit at the end of the batch, then puts this one back); raising here would end the fit mid-batch
        return
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once, cleanups or not
    raise _Terminated


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Within, SIGTERM raises :class:`_Terminated`, unless a handler installed meanwhile (Lightning's during a fit)
    has it. Only in the main thread (the only one that can set a handler), and only where SIGTERM has its default
    action: a handler of the program that calls :func:`main` is kept."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _flush_output() -> None:
    """Flush stdout and stderr here, where main() turns a reader that has gone into exit code 141: argparse drops
    what it cannot write (a usage message into `metanet 2>&1 | head`), but it stayed buffered, and Python's own flush
    at exit failed ("Exception ignored ... BrokenPipeError", exit code 120)."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:  # None: started with it closed (`>&-`); print() writes nothing then
            stream.flush()


def _discard_output() -> None:
    """Point stdout and stderr, each when it is a closed pipe (``| head``, ``2>&1 | head``), at /dev/null: what is
    still buffered is dropped, not reported as an "Exception ignored" BrokenPipeError (exit code 120) when Python
    exits."""
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        for stream in (sys.stdout, sys.stderr):
            # only a closed one: since main() also stops quietly for a closed stderr, a working stdout (a file, a
            # calling program's terminal) was silenced for good, and a StringIO one (no fileno) raised
            if stream is not None and _stdout_closed(stream):
                os.dup2(null, stream.fileno())
    finally:
        os.close(null)


class _EventThreadErrors:
    """The failures of TensorBoard's event-file threads (``_AsyncWriterThread``: a full disk) while :func:`main` runs:
    kept, not printed as a thread traceback, and reported by :func:`main` in one line. The writer raises such an
    error again only at a later ``write``/``flush``: ``_AsyncWriter.close()`` never does, so a final write that
    failed went unreported (exit code 0, events missing).

    ``threading.excepthook`` is process-wide: the first of the :func:`main` calls running at once (threads of one
    program) installs the hook, the last one puts back what it replaced. Each call saving and restoring it removed the
    hook while another call still ran, and left a stale one behind. A failure is claimed by the first call to end
    after it (the thread does not say which call started it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls = 0
        self._replaced: Callable[[Any], object] | None = None
        self._failures: list[BaseException] = []

    def enter(self) -> None:
        with self._lock:
            if self._calls == 0:
                self._replaced = threading.excepthook
                threading.excepthook = self._hook
            self._calls += 1

    def exit(self) -> None:
        with self._lock:
            self._calls -= 1
            if self._calls == 0:
                if threading.excepthook == self._hook:  # else it was replaced since: that one is kept
                    threading.excepthook = self._replaced
                self._replaced = None
                self._failures.clear()

    def take(self) -> list[BaseException]:
        """The failures recorded since the last take, removed."""
        with self._lock:
            failures, self._failures = self._failures, []
        return failures

    def _hook(self, args: Any) -> object:
        if type(args.thread).__name__ == "_AsyncWriterThread" and isinstance(args.exc_value, Exception):
            with self._lock:
                self._failures.append(args.exc_value)
            return None
        replaced = self._replaced
        return (replaced or threading.__excepthook__)(args)


_EVENT_THREADS = _EventThreadErrors()


def _event_thread_failures(code: int, debug: bool = False) -> int:
    """``code``, or 2 after one error line when an event-file thread failed during a command that succeeded (a
    command that failed has reported its error: most often this one, raised again by the writer)."""
    failures = _EVENT_THREADS.take()
    if not failures or code != 0:
        return code
    e = failures[0]
    if debug:
        import traceback

        traceback.print_exception(type(e), e, e.__traceback__)
        return 2
    line = os_error_line(e) if isinstance(e, OSError) else None
    print(f"metanet: error: TensorBoard's event file could not be written: {line or f'{type(e).__name__}: {e}'}",
          file=sys.stderr)
    return 2


def _replace_unencodable() -> None:
    """Let stdout and stderr print what their encoding cannot hold as '?': on a terminal or pipe that is not UTF-8
    (an ASCII or Latin-1 locale, ``PYTHONIOENCODING=ascii``) the demo's "Kendall τ" ended the command with a
    UnicodeEncodeError after all its work. Where Python chose ``surrogateescape`` (the C locale without UTF-8 mode,
    ``PYTHONUTF8=0``), a file name's undecodable bytes still print as they came, the rest as '?' (``metanet
    inspect`` stopped at its first "—" there)."""
    for stream in (sys.stdout, sys.stderr):
        errors = getattr(stream, "errors", None)
        if errors in ("strict", "surrogateescape") and hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="replace" if errors == "strict" else "metanet.surrogateescape_or_replace")
            except (ValueError, OSError):  # a closed or detached stream: it prints nothing anyway
                pass


def _surrogateescape_or_replace(error: UnicodeError) -> tuple[str | bytes, int]:
    """Codec error handler: the original bytes of a decoded file name (``surrogateescape``), '?' for the rest."""
    if not isinstance(error, UnicodeEncodeError):
        return codecs.replace_errors(error)
    text, end = error.object, error.start
    while end < error.end and "\udc80" <= text[end] <= "\udcff":
        end += 1
    if end > error.start:  # a run of escaped bytes; the encoder calls again for what follows
        return bytes(ord(c) - 0xDC00 for c in text[error.start:end]), end
    return "?", error.start + 1


codecs.register_error("metanet.surrogateescape_or_replace", _surrogateescape_or_replace)


def _main(argv: list[str]) -> int:
    # `metanet train ...` hands its arguments to LightningCLI untouched
    debug = argv[:1] == ["--debug"]
    if argv[debug : debug + 1] == ["train"]:
        from metanet.train import cli_main

        return cli_main(argv[debug + 1 :], debug=debug) or 0
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int | None] | None = getattr(args, "run", None)
    if run is None:  # no command: a usage error, so on stderr (as `metanet zoo` without a subcommand); --help: stdout
        parser.print_help(sys.stderr)
        return 2
    try:
        return run(args) or 0  # main() flushes stdout: a reader that closed the pipe early shows there
    except MetanetError as e:
        if args.debug:
            raise
        print(f"metanet: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        line = os_error_line(e)
        if args.debug or line is None:
            raise
        print(f"metanet: error: {line}", file=sys.stderr)
        return 2


#: errors of a disk that cannot take a write, whoever raised them
_DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG)


def os_error_line(e: OSError) -> str | None:
    """The one-line message of an OSError the file system raised (read-only, no permission, a full disk), or None for
    one that looks like a bug (shown with its traceback). A full disk often names no file (a write to an open file,
    TensorBoard's or jsonargparse's): it was a traceback."""
    if e.filename is not None:  # a path the file system refuses: one line, like a user mistake
        return f"{e.strerror or e}: {e.filename}"
    if e.errno in _DISK_ERRNOS:
        return f"{e.strerror or e} (while writing an output file); free some space or write elsewhere, then run again"
    return None


if __name__ == "__main__":
    sys.exit(main())
