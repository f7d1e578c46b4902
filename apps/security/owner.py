"""Who is calling: the key under which uploads are recorded and checked.

In personal mode there is one implicit user ("local"). The classroom identity layer (signed session
cookie) replaces the resolver with `use(fn)`, where `fn(headers) -> str` returns the signed-in
user's id; nothing here ever trusts a typed name or a Gradio session hash.
"""
from __future__ import annotations

from typing import Callable, Mapping

LOCAL = "local"


def _single_user(headers: Mapping[str, str]) -> str:
    return LOCAL


_resolver: Callable[[Mapping[str, str]], str] = _single_user


def owner_of(headers: Mapping[str, str] | None) -> str:
    return _resolver(headers or {})


def use(resolver: Callable[[Mapping[str, str]], str] | None) -> None:
    global _resolver
    _resolver = resolver or _single_user
