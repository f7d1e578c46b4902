"""Named decoding settings and the side-by-side comparison of one prompt under several of them."""
from __future__ import annotations

from dataclasses import replace

from apps.errors import LabError
from apps.models.generation import GenerationConfig, GenerationResult, collect, start
from apps.models.loading import LoadedModel

# Each preset teaches one idea: pure argmax, the usual chat setting, what high temperature does,
# min-p's adaptive cut-off, beam search's search for a likely *sequence*, and a repetition penalty.
PRESETS: dict[str, GenerationConfig] = {
    "greedy": GenerationConfig(),
    "balanced": GenerationConfig(do_sample=True, temperature=0.7, top_p=0.9),
    "creative": GenerationConfig(do_sample=True, temperature=1.3, top_k=50),
    "min_p": GenerationConfig(do_sample=True, temperature=1.0, min_p=0.1),
    "beam4": GenerationConfig(num_beams=4),
    "no_repeat": GenerationConfig(repetition_penalty=1.3),
}


def preset(name: str, max_new_tokens: int = 64, seed: int | None = 0) -> GenerationConfig:
    if name not in PRESETS:
        raise LabError("gen.bad_param", name="preset", why=f"choose from {', '.join(PRESETS)}")
    return replace(PRESETS[name], max_new_tokens=max_new_tokens, seed=seed, stop=[])


def describe(cfg: GenerationConfig) -> str:
    """A short formula of a setting, e.g. 'sample T=0.7 top-p=0.9'."""
    if cfg.num_beams > 1:
        head = f"beam×{cfg.num_beams}"
    elif not cfg.do_sample:
        head = "greedy"
    else:
        parts = [f"T={cfg.temperature:g}"]
        parts += [f"top-k={cfg.top_k}"] if cfg.top_k else []
        parts += [f"top-p={cfg.top_p:g}"] if cfg.top_p < 1 else []
        parts += [f"min-p={cfg.min_p:g}"] if cfg.min_p else []
        head = "sample " + " ".join(parts)
    return head + (f" rep={cfg.repetition_penalty:g}" if cfg.repetition_penalty != 1.0 else "")


def check_pairs(n_models: int, names: list[str], max_new_tokens: int = 64, seed: int | None = 0) -> None:
    """The cheap checks of a comparison (pair count, preset names, settings), before models load."""
    if not 1 <= n_models * len(names) <= 4:
        raise LabError("gen.bad_param", name="presets", why="pick 1 to 4 model × strategy pairs")
    for name in names:
        preset(name, max_new_tokens, seed).validate()


def compare(lms: list[LoadedModel], prompt, names: list[str], max_new_tokens: int = 64, seed: int | None = 0,
            system: str | None = None, user: str | None = None) -> list[tuple[str, str, GenerationResult]]:
    """Generate once per (model, preset) pair, at most 4 pairs, with the same prompt and seed.

    Two models with one preset puts a base model beside an instruct model: the base one continues
    the text, the instruct one answers it. One model with several presets compares decodings."""
    check_pairs(len(lms), names, max_new_tokens, seed)
    pairs = [(lm, n) for lm in lms for n in names]
    # All pairs enter the batch at once (beam search runs alone); then collect in order.
    started = [(lm.name, n, start(lm, prompt, preset(n, max_new_tokens, seed), system=system, user=user))
               for lm, n in pairs]
    return [(name, n, collect(chunks)) for name, n, chunks in started]
