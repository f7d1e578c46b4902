"""The lab as a Hugging Face Space: the README header Spaces read, Space mode (hub models with the
offline ones as fallback, durable storage), ZeroGPU wrappers, and `llmlab space build|push|header`.

header.py (the YAML header: render, parse and check it as Spaces do), mode.py (on a Space? which models,
where state lives and whether it survives a restart), gpu.py (`@gpu(duration=…)`: spaces.GPU on ZeroGPU,
a plain call elsewhere; the quota message), zerogpu.py (each reply in a lent call; a spent quota replies
from CPU and says so), zerotrain.py (fine-tuning runs in lent calls, in slices), build.py (a ready-to-push Space folder, and what a push
would upload), cli.py.
"""
