"""The lab's locked-down surface: what a hostile caller may not do, whatever a request names.

Plain modules, no gradio (the shell wires them): `policy` (mode, allowlists, size limits),
`files` (which file paths a handler may read), `urls` (SSRF checks on provider base URLs),
`model_policy` (which model names a box may load), `gate` (the API key on the Gradio API),
`limits` (bounded request bodies, JSON errors instead of plain-text 500s).
"""
