"""Model layer: which models exist (registry), how they load (loading), how they generate (generation).

    from apps.models import default_cache
    lm = default_cache().get("smollm2-135m-instruct")      # LoadedModel, loaded once per process
    from apps.models.generation import GenerationConfig, generate
    print(generate(lm, "Hello", GenerationConfig(max_new_tokens=20)).text)
"""
import importlib

# Imported on first use (PEP 562): the registry and the stores load without torch, so `llmlab`
# builds its command line, and a CLI call that needs no model answers, in a fraction of a second.
_FROM = {"LoadedModel": "loading", "ModelCache": "loading", "default_cache": "loading", "load_model": "loading",
         "ModelSpec": "registry", "list_models": "registry", "resolve": "registry"}
__all__ = sorted(_FROM)


def __getattr__(name: str):
    if name not in _FROM:
        raise AttributeError(f"module 'apps.models' has no attribute {name!r}")
    return getattr(importlib.import_module(f"apps.models.{_FROM[name]}"), name)
