"""`llmlab api`: serve the lab's registry models behind the OpenAI API.

    llmlab api [--host 127.0.0.1] [--port 7861] [--api-key KEY]     # or LLMLAB_API_KEY=KEY llmlab api
    curl http://127.0.0.1:7861/v1/models
"""
from __future__ import annotations

import os

from apps import cliargs


def register(sub) -> None:
    api = sub.add_parser("api", help="serve registry models behind an OpenAI-compatible API (/v1/...)")
    api.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0 = every interface)")
    api.add_argument("--port", type=cliargs.port, default=7861, help="port to listen on")
    api.add_argument("--api-key", default=None,
                     help="require 'Authorization: Bearer KEY' (default: $LLMLAB_API_KEY; none = open)")
    api.set_defaults(func=run)


def run(args) -> int:
    from apps.serving.routes import serve

    cliargs.check_listen(args.host, args.port)
    key = args.api_key or os.environ.get("LLMLAB_API_KEY") or None
    # The key itself is never printed; only whether one is required.
    print(f"OpenAI-compatible API on http://{args.host}:{args.port}/v1 "
          f"({'bearer key required' if key else 'no key required'})", flush=True)
    serve(args.host, args.port, key)
    return 0
