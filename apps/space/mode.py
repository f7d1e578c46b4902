"""Space mode: chosen automatically when the lab runs on a Hugging Face Space (Spaces set SPACE_ID).

    from apps.space import mode
    mode.on_space()                 # True on a Space
    mode.default_model("chat")      # ("smollm2-360m-instruct", None) online; offline: the shipped one + a notice key
    mode.storage()                  # {"home": Path, "durable": bool, "how": "bucket" | "env" | "ephemeral"}

On a Space the machine is online, so the lab's defaults are larger hub models (preloaded at build time
by the README header's preload_from_hub), with the offline PyPI models as the fallback when the hub
cannot be reached. A Space's disk is wiped on restart: state survives only in a mounted Storage
Bucket (`hf spaces volumes set OWNER/SPACE -v hf://buckets/OWNER/BUCKET:/data`), so the lab puts its
home there when one is mounted and says so loudly when none is.
"""
from __future__ import annotations

import os
from pathlib import Path

from apps.space.header import CHAT_HUB, EMBED_HUB

SPACE_MODELS = {"chat": "smollm2-360m-instruct", "embedding": "multilingual-e5-small"}
OFFLINE_MODELS = {"chat": "smollm2-135m-instruct", "embedding": "all-minilm-l6-v2"}
HUB_IDS = {"chat": CHAT_HUB, "embedding": EMBED_HUB}
BUCKET_MOUNT = Path("/data")  # where `hf spaces volumes set` mounts a bucket by convention


def on_space(env=None) -> bool:
    return bool((env if env is not None else os.environ).get("SPACE_ID"))


def _available(hub_id: str) -> bool:
    """Preloaded into the hub cache at build time, or the hub answers now."""
    try:
        from huggingface_hub import try_to_load_from_cache

        if isinstance(try_to_load_from_cache(hub_id, "config.json"), str):
            return True
    except Exception:  # noqa: BLE001 - no cache: ask the hub
        pass
    from apps.models.loading import hub_reachable

    return hub_reachable()


def default_model(kind: str, env=None) -> tuple[str, str | None]:
    """(model name, notice key or None). Off a Space: the offline model, no notice. On a Space: the
    hub model when it can be had, else the offline one and "space.offline_fallback"."""
    if not on_space(env):
        return OFFLINE_MODELS[kind], None
    if _available(HUB_IDS[kind]):
        return SPACE_MODELS[kind], None
    return OFFLINE_MODELS[kind], "space.offline_fallback"


def storage(env=None) -> dict:
    """Where the lab keeps votes, progress, runs and indexes, and whether that survives a restart."""
    env = env if env is not None else os.environ
    home = env.get("LLMLAB_HOME")
    if not on_space(env):
        return {"home": Path(home or Path.home() / ".cache" / "llmlab"), "durable": True, "how": "local"}
    if home and env.get("LLMLAB_DURABLE", "").lower() in ("1", "true", "yes"):
        return {"home": Path(home), "durable": True, "how": "env"}  # the owner says it is a mounted bucket
    if BUCKET_MOUNT.is_dir() and os.path.ismount(BUCKET_MOUNT) and os.access(BUCKET_MOUNT, os.W_OK):
        return {"home": Path(home) if home and Path(home).is_relative_to(BUCKET_MOUNT) else BUCKET_MOUNT / "llmlab",
                "durable": True, "how": "bucket"}
    return {"home": Path(home or Path.home() / ".cache" / "llmlab"), "durable": False, "how": "ephemeral"}


def prepare(env=None) -> dict:
    """Called by the Space's app file before the lab starts: point LLMLAB_HOME at durable storage
    when there is some, and keep /v1 closed unless its owner set a key."""
    env = env if env is not None else os.environ
    where = storage(env)
    env.setdefault("LLMLAB_HOME", str(where["home"]))
    return where


def api_open(env=None) -> bool:
    """/v1 on a Space only with LLMLAB_API_KEY set (a public Space must not be a free model API)."""
    env = env if env is not None else os.environ
    return not on_space(env) or bool(env.get("LLMLAB_API_KEY"))


def notices(env=None) -> list[str]:
    """The i18n keys of what a Space visitor should know up front (empty off a Space): state that
    will not survive a restart, models that fell back to the offline ones, CPU-only hardware."""
    if not on_space(env):
        return []
    keys = [] if storage(env)["durable"] else ["space.not_durable"]
    if default_model("chat", env)[1]:
        keys.append("space.offline_fallback")
    import torch

    from apps.space.gpu import zero_gpu

    if zero_gpu():
        keys.append("space.zerogpu_training")  # replies and fine-tuning get lent GPU calls, pretraining does not
    elif not torch.cuda.is_available():
        keys.append("space.cpu_only")
    return keys
