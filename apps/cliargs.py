"""argparse types shared by every CLI of the lab: a bad value stops the parser with a zh/en message
(LLMLAB_LANG=zh) and exit 2, before any model loads or any file is written.

    p.add_argument("--port", type=cliargs.port)              # 1..65535
    p.add_argument("-k", type=cliargs.positive_int)          # ≥ 1
    p.add_argument("--limit", type=cliargs.non_negative_int) # ≥ 0 (0 = all)
    p.add_argument("--seed", type=cliargs.seed)              # 0..2**63-1 (torch and JSON int64)
    p.add_argument("--text", type=cliargs.readable_text_file)
    p.add_argument("--out", type=cliargs.writable_file)
    p.add_argument("--output", type=cliargs.output_folder)

argparse turns the ArgumentTypeError raised here into `prog: error: argument --x: MESSAGE`, exit 2.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from apps import userfiles
from apps.errors import LabError
from apps.i18n import t

SEED_MAX = 2**63 - 1  # torch.Generator.manual_seed and the OpenAI API's seed are int64


def lang() -> str:
    """The CLI's language: LLMLAB_LANG (zh…) else English, as apps.cli.run prints LabErrors."""
    return os.environ.get("LLMLAB_LANG", "en")


def _error(key: str, **params) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(t(key, lang(), **params))


def _as_int(value: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise _error("cli.not_int", value=value) from None


def int_in(lo: int, hi: int | None = None, name: str = "int"):
    """A type function for whole numbers in [lo, hi] (hi None: no upper bound)."""

    def convert(value: str) -> int:
        n = _as_int(value)
        if hi is None and n < lo:
            raise _error("cli.int_at_least", lo=lo, value=n)
        if hi is not None and not lo <= n <= hi:
            raise _error("cli.int_between", lo=lo, hi=hi, value=n)
        return n

    convert.__name__ = name  # argparse names the type in its own messages
    return convert


positive_int = int_in(1, name="positive_int")
non_negative_int = int_in(0, name="non_negative_int")
port = int_in(1, 65535, name="port")
seed = int_in(0, SEED_MAX, name="seed")


def positive_float(value: str) -> float:
    try:
        x = float(str(value).strip())
    except ValueError:
        raise _error("cli.not_number", value=value) from None
    if not x > 0 or x == float("inf"):  # also refuses nan
        raise _error("cli.positive_number", value=value)
    return x


def _checked(check, value: str) -> str:
    try:
        check(value)
    except LabError as exc:
        raise argparse.ArgumentTypeError(exc.message(lang())) from None
    return value


def readable_text_file(value: str) -> str:
    """An existing UTF-8 text file (read once here; the command reads it again)."""
    return _checked(userfiles.read_text, value)


def writable_file(value: str) -> str:
    return _checked(userfiles.check_writable_file, value)


def output_folder(value: str) -> str:
    return _checked(userfiles.check_output_folder, value)


def check_listen(host: str, port: int) -> None:
    """Bind HOST:PORT once and let go, before a server starts: a busy port or an unknown host is a
    message and exit 2 (uvicorn would log the error and leave the process hanging on its threads)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind(address)
    except OSError as exc:
        raise LabError("cli.cannot_listen", host=host, port=port, why=exc.strerror or str(exc)) from None


def adapter_folder(value: str) -> str:
    """A peft adapter folder (checked before the base model loads, which takes seconds)."""
    if not (Path(value).expanduser() / "adapter_config.json").is_file():
        raise _error("files.not_adapter", path=value)
    return value
