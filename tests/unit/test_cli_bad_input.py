"""Bad input on every `llmlab` subcommand: a clear message in the user's language, exit 2, no traceback,
and nothing expensive first (no model loads, no server starts: a tripwire fails the test if one does).

Most cases run in-process through `apps.cli.main`; two run `python -m apps` as a user would.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from apps.cli import main
from apps.i18n import t

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "bin.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01")
    (tmp_path / "latin1.txt").write_bytes("café au lait\n".encode("latin-1"))
    (tmp_path / "ok.txt").write_text("Attention lets every token look at every other token.\n", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.md").write_text("my notes", encoding="utf-8")
    return tmp_path


@pytest.fixture
def tripwire(monkeypatch):
    """Bad input must be refused before a model loads or a server starts."""
    import apps.models.loading
    import apps.server
    import apps.serving.routes

    def expensive(*args, **kwargs):
        raise AssertionError("bad input reached expensive work (a model load or a server start)")

    monkeypatch.setattr(apps.models.loading, "load_model", expensive)
    monkeypatch.setattr(apps.server, "serve", expensive)
    monkeypatch.setattr(apps.serving.routes, "serve", expensive)


M = "smollm2-135m-instruct"
# (argv with {d} = the files folder, message key, its parameters with {d} too)
CASES = [
    ("serve --port 99999", "cli.int_between", dict(lo=1, hi=65535, value=99999)),
    ("api --port 0", "cli.int_between", dict(lo=1, hi=65535, value=0)),
    ("api --port eighty", "cli.not_int", dict(value="eighty")),
    (f"generate --prompt hi --seed {2**70}", "cli.int_between", dict(lo=0, hi=2**63 - 1, value=2**70)),
    ("generate --prompt hi --adapter {d}/folder", "files.not_adapter", dict(path="{d}/folder")),
    ("compare --prompt hi --presets greedy nosuch", "gen.bad_param",
     dict(name="preset", why="choose from greedy, balanced, creative, min_p, beam4, no_repeat")),
    ("compare --prompt hi --models a b c --presets greedy balanced", "gen.bad_param",
     dict(name="presets", why="pick 1 to 4 model × strategy pairs")),
    ("attention --text hi --max-tokens 0", "cli.int_at_least", dict(lo=1, value=0)),
    ("arena ratings --votes {d}/bin.png", "files.binary", dict(path="{d}/bin.png")),
    ("arena ratings --votes {d}/latin1.txt", "files.not_utf8", dict(path="{d}/latin1.txt", offset=3)),
    ("arena ratings --votes {d}/folder", "files.is_folder", dict(path="{d}/folder")),
    ("arena ratings --votes {d}/ok.txt --k -4", "cli.positive_number", dict(value="-4")),
    ("arena import --votes {d}/bin.png --db {d}/a.db", "files.binary", dict(path="{d}/bin.png")),
    ("arena import --votes {d}/missing.jsonl --db {d}/a.db", "files.missing", dict(path="{d}/missing.jsonl")),
    ("arena export --out {d}/folder --db {d}/a.db", "files.is_folder", dict(path="{d}/folder")),
    ("arena export --out {d}/ok.txt/votes.jsonl --db {d}/a.db", "files.parent_not_folder",
     dict(path="{d}/ok.txt/votes.jsonl", parent="{d}/ok.txt")),
    (f"arena perplexity --model {M} --text {{d}}/latin1.txt", "files.not_utf8", dict(path="{d}/latin1.txt", offset=3)),
    (f"arena perplexity --model {M} --text {{d}}/missing.txt", "files.missing", dict(path="{d}/missing.txt")),
    (f"arena perplexity --model {M} --window 0", "cli.int_at_least", dict(lo=2, value=0)),
    (f"arena mc --model {M} --file {{d}}/bin.png", "files.binary", dict(path="{d}/bin.png")),
    (f"arena mc --model {M} --limit -1", "cli.int_at_least", dict(lo=0, value=-1)),
    ("arena judge --prompts {d}/bin.png --db {d}/a.db", "files.binary", dict(path="{d}/bin.png")),
    ("arena judge --prompts {d}/ok.txt --db {d}/a.db --max-new-tokens 0", "cli.int_at_least", dict(lo=1, value=0)),
    ("arena judge --prompts {d}/ok.txt --db {d}/a.db --provider nosuch", "tasks.unknown_preset",
     dict(name="nosuch", choices=None)),
    ("rag build {d}/ok.txt --index {d}/ok.txt", "files.not_folder", dict(path="{d}/ok.txt")),
    ("rag build {d}/ok.txt --index {d}/notes", "rag.not_index_folder", dict(path="{d}/notes")),
    (f"rag build {{d}}/ok.txt --index {{d}}/idx --embedder {M}", "rag.not_embedder",
     dict(name=M, choices="all-minilm-l6-v2")),
    ("rag build {d}/ok.txt --index {d}/idx --chunk-size 50 --overlap 60", "rag.bad_chunking",
     dict(why="0 <= overlap < chunk size")),
    ("rag query {d}/idx what -k 0", "cli.int_at_least", dict(lo=1, value=0)),
    ("rag query {d}/idx what -k -3", "cli.int_at_least", dict(lo=1, value=-3)),
    ("rag ask {d}/idx what --max-tokens 0", "cli.int_at_least", dict(lo=1, value=0)),
    ("rag eval {d}/idx {d}/bin.png", "files.binary", dict(path="{d}/bin.png")),
    ("rag eval {d}/idx {d}/latin1.txt", "files.not_utf8", dict(path="{d}/latin1.txt", offset=3)),
    ("quantize --output {d}/ok.txt", "files.not_folder", dict(path="{d}/ok.txt")),
    ("quantize --eval-text {d}/bin.png", "files.binary", dict(path="{d}/bin.png")),
    ("pretrain --corpus seeds-zh --output {d}/ok.txt", "files.not_folder", dict(path="{d}/ok.txt")),
    ("pretrain --corpus seeds-zh --output {d}/pt --device tpu", "gen.bad_param",
     dict(name="device", why="auto, cpu, cuda or cuda:N")),
    ("quantize kvsize --model all-minilm-l6-v2", "quantize.embedding_model", dict(name="all-minilm-l6-v2")),
    ("class settings --set base_urls=ftp://10.0.0.5/v1", "security.url_bad", dict(url="ftp://10.0.0.5/v1")),
    ("pretrain estimate --vocab-size -5", "pretrain.vocab_range", dict(size=-5, low=300, high=65536)),
    ("class roster add --csv {d}/latin1.txt", "files.not_utf8", dict(path="{d}/latin1.txt", offset=3)),
    ("course progress --export {d}/folder --db {d}/p.db", "files.is_folder", dict(path="{d}/folder")),
    ("course check api.rouge1 abc --db {d}/p.db", "course.not_a_number", dict(answer="abc")),
]


def _expected(key: str, params: dict, d: Path, lang: str) -> str:
    filled = {k: str(v).replace("{d}", str(d)) for k, v in params.items() if v is not None}
    if key == "tasks.unknown_preset":  # the list of presets is not this test's business
        return t(key, lang, **filled, choices="\x00").split("\x00")[0]
    return t(key, lang, **filled)


def _run(argv: list[str], capsys) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse refusing a flag's value
        code = stop.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize("line,key,params", CASES, ids=[c[0].replace("{d}/", "") for c in CASES])
def test_bad_input_exits_2_with_a_message_in_both_languages(line, key, params, files, tripwire, monkeypatch, capsys):
    monkeypatch.setenv("LLMLAB_CLASS_DB", str(files / "class.db"))
    argv = [a.replace("{d}", str(files)) for a in line.split()]
    if argv[0] == "class":
        main(["class", "create", "NLP"])
        capsys.readouterr()
    for lang in ("en", "zh"):
        monkeypatch.setenv("LLMLAB_LANG", lang)
        code, err = _run(argv, capsys)
        assert code == 2, (lang, err)
        assert "Traceback" not in err and "{{" not in err and "&#" not in err and "&lt;" not in err
        assert _expected(key, params, files, lang) in err, (lang, err)
    assert not (files / "idx").exists()  # nothing half-built was left behind


def test_a_busy_port_is_a_message_not_a_hung_server(tripwire, monkeypatch, capsys):
    import socket

    monkeypatch.setenv("LLMLAB_LANG", "zh")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for command in ("serve", "api"):
            code, err = _run([command, "--port", str(port)], capsys)
            assert code == 2 and f"无法在 127.0.0.1:{port} 上监听" in err, err


@pytest.mark.parametrize("argv,needle", [
    (["serve", "--port", "99999"], "应为 1 到 65535 之间的整数，收到 99999。"),
    (["generate", "--prompt", "hi", "--seed", str(2**70)], f"收到 {2**70}"),
])
def test_bad_input_as_a_user_types_it(argv, needle):
    env = {**os.environ, "LLMLAB_LANG": "zh", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "apps", *argv], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
