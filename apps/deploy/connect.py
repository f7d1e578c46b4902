"""Commands to copy: the lab's /v1 behind a chat console (Open WebUI), and local model servers
(Ollama, vLLM, llama.cpp) as providers of the lab (the presets in apps.tasks.providers).

    commands("http://192.168.1.20:7860/v1", "zh")   # [{"key", "title", "command", "note"}]

`base_url` is the lab's API as others reach it: the Deploy tab passes the address the browser used.
"""
from __future__ import annotations

import os

from apps.i18n import t


def lab_base(base_url: str | None = None) -> str:
    return (base_url or os.environ.get("LLMLAB_API_BASE") or "http://127.0.0.1:7860/v1").rstrip("/")


def _docker_url(url: str) -> str:
    """Inside a container, 127.0.0.1 is the container: reach the host through host.docker.internal."""
    for local in ("127.0.0.1", "localhost", "0.0.0.0"):
        url = url.replace(f"//{local}", "//host.docker.internal")
    return url


def commands(base_url: str | None = None, lang: str = "en") -> list[dict]:
    from apps.tasks.providers import PRESETS

    base = lab_base(base_url)
    key = "$LLMLAB_API_KEY" if os.environ.get("LLMLAB_API_KEY") else "EMPTY"
    ollama, vllm = PRESETS["ollama"], PRESETS["vllm"]
    rows = [
        ("check", f"curl {base}/models"),
        ("openwebui_docker",
         "docker run -d -p 3000:8080 --add-host=host.docker.internal:host-gateway \\\n"
         f"  -e OPENAI_API_BASE_URL={_docker_url(base)} -e OPENAI_API_KEY={key} \\\n"
         "  -v open-webui:/app/backend/data --name open-webui ghcr.io/open-webui/open-webui:main"),
        ("openwebui_pip",
         f"pip install open-webui\nOPENAI_API_BASE_URL={base} OPENAI_API_KEY={key} open-webui serve --port 3000"),
        ("lab_gguf", "make llama    # once: the optional llama.cpp engine\n"
                     "LLMLAB_GGUF=$HOME/models/qwen2.5-7b-instruct-q4_k_m.gguf llmlab api --port 7861\n"
                     "llmlab chat --model $HOME/models/qwen2.5-7b-instruct-q4_k_m.gguf"),
        ("ollama", f"ollama pull {ollama.model}\nollama serve    # {ollama.base_url}\n"
                   f"llmlab tasks summarize --provider ollama --model {ollama.model} --data news_zh\n"
                   f"llmlab deploy loadtest --base-url {ollama.base_url} --model {ollama.model} --streams 1 4 8"),
        ("vllm", f"pip install vllm    # a CUDA GPU\nvllm serve {vllm.model} --port 8000    # {vllm.base_url}\n"
                 f"llmlab deploy loadtest --base-url {vllm.base_url} --model {vllm.model} --streams 1 8 32"),
        ("llamacpp_server", "pip install 'llama-cpp-python[server]'\n"
                            "python -m llama_cpp.server --model model.gguf --port 8080    # http://127.0.0.1:8080/v1\n"
                            "llmlab tasks summarize --provider custom --base-url http://127.0.0.1:8080/v1 "
                            "--model model.gguf --data news_zh"),
        ("loadtest", f"llmlab deploy loadtest --base-url {base} --model smollm2-135m-instruct --streams 1 4 8 16 "
                     "--plot load.png"),
    ]
    return [{"key": k, "title": t(f"deploy.cmd.{k}", lang), "command": cmd, "note": t(f"deploy.cmd.{k}.note", lang)}
            for k, cmd in rows]


def markdown(base_url: str | None = None, lang: str = "en") -> str:
    """The commands as Markdown sections with copyable code blocks."""
    return "\n\n".join(f"#### {r['title']}\n{r['note']}\n\n```bash\n{r['command']}\n```"
                       for r in commands(base_url, lang))
