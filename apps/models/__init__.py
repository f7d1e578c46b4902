"""Model layer: which models exist (registry), how they load (loading), how they generate (generation).

    from apps.models import default_cache
    lm = default_cache().get("smollm2-135m-instruct")      # LoadedModel, loaded once per process
    from apps.models.generation import GenerationConfig, generate
    print(generate(lm, "Hello", GenerationConfig(max_new_tokens=20)).text)
"""
from apps.models.loading import LoadedModel, ModelCache, default_cache, load_model  # noqa: F401
from apps.models.registry import ModelSpec, list_models, resolve  # noqa: F401
