"""Fine-tuning lab: LoRA / QLoRA / full SFT and DPO runs, each in its own process and `runs/<id>/` folder.

    llmlab finetune --model smollm2-135m-instruct --method lora --data alpaca_en --max-steps 20
    llmlab finetune --config runs/<id>/run.yaml          # reproduce a run (flags override the file)
    python -m apps.finetune.train --config run.yaml      # what the runner starts in a subprocess

Modules: config (RunConfig + flags), data (formats, validation, chat-template masking), estimate
(memory before starting), train (main(cfg)), progress (callback → metrics.jsonl), runs (run folders,
list_adapters, merge/export), runner (subprocess queue, stop, resume), compare (base vs tuned), view.
"""
