"""A small chat app exported from LLM 0→1 Lab (`llmlab deploy export`). Runs on its own:

    python -m venv .venv && .venv/bin/pip install -r requirements.txt
    .venv/bin/python app.py                       # http://127.0.0.1:7860

Everything it needs is in this folder: app_config.json (model, system prompt, decoding settings),
model/ (the weights, unless the config names a hub id), adapter/ (a LoRA adapter, if any), and for
answers from your documents, index/ (FAISS index + chunks) and embedder/ (the sentence embedder).
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import gradio as gr

HERE = Path(__file__).resolve().parent
CONFIG = json.loads((HERE / "app_config.json").read_text(encoding="utf-8"))


def local(path):
    """A path inside this folder, or the value as it is (a hub id)."""
    return str(HERE / path) if path and (HERE / path).exists() else path


# ---------------------------------------------------------------- retrieval (only with an index)

class Retriever:
    def __init__(self, folder: Path, embedder: str, k: int):
        import faiss
        from sentence_transformers import SentenceTransformer

        self.index = faiss.read_index(str(folder / "index.faiss"))
        with open(folder / "chunks.jsonl", encoding="utf-8") as handle:
            self.chunks = [json.loads(line) for line in handle if line.strip()]
        self.embedder = SentenceTransformer(embedder, device="cpu")
        self.k = k

    def search(self, question: str) -> list[dict]:
        query = self.embedder.encode([question], normalize_embeddings=True, convert_to_numpy=True)  # (1, dim)
        _scores, ids = self.index.search(query.astype("float32"), self.k)
        return [self.chunks[i] for i in ids[0] if 0 <= i < len(self.chunks)]


def with_sources(question: str, hits: list[dict]) -> tuple[str, str]:
    """(instructions, the question with numbered sources to cite as [n]), as the lab's RAG stage asks."""
    lang = "zh" if sum("\u4e00" <= c <= "\u9fff" for c in question) > len(question) * 0.3 else "en"
    blocks = [f"[{n}] ({Path(h['source']).name})\n{h['text']}" for n, h in enumerate(hits, 1)]
    label, ask = CONFIG["rag_labels"][lang]
    return CONFIG["rag_instructions"][lang], f"{label}:\n\n" + "\n\n".join(blocks) + f"\n\n{ask}: {question}"


# ---------------------------------------------------------------- the model

class TorchModel:
    def __init__(self):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        path = local(CONFIG["model"])
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
        if CONFIG.get("adapter"):
            from peft import PeftModel

            self.model = PeftModel.from_pretrained(self.model, local(CONFIG["adapter"]))
        self.model.eval()
        self.lock = threading.Lock()  # one generation at a time: a small CPU app

    def stream(self, messages: list[dict]):
        from transformers import TextIteratorStreamer

        tok = self.tokenizer
        if tok.chat_template:
            text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            ids = tok(text, add_special_tokens=False, return_tensors="pt")
        else:  # a base model continues a transcript
            text = "\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in messages) + "\nAssistant:"
            ids = tok(text, return_tensors="pt")
        streamer = TextIteratorStreamer(tok, skip_prompt=True, skip_special_tokens=True)
        temperature = float(CONFIG.get("temperature", 0.0))
        kwargs = dict(**ids, max_new_tokens=int(CONFIG.get("max_tokens", 256)), streamer=streamer,
                      do_sample=temperature > 0, pad_token_id=tok.pad_token_id or tok.eos_token_id)
        if temperature > 0:
            kwargs["temperature"] = temperature
        with self.lock:
            worker = threading.Thread(target=self._generate, kwargs=kwargs, daemon=True)
            worker.start()
            yield from streamer
            worker.join()

    def _generate(self, **kwargs):
        with self.torch.inference_mode():
            self.model.generate(**kwargs)


class LlamaModel:
    def __init__(self):
        from llama_cpp import Llama

        self.llm = Llama(model_path=local(CONFIG["model"]), n_ctx=4096, verbose=False)
        self.chat = bool(self.llm.metadata.get("tokenizer.chat_template"))
        self.lock = threading.Lock()

    def stream(self, messages: list[dict]):
        params = dict(stream=True, max_tokens=int(CONFIG.get("max_tokens", 256)),
                      temperature=float(CONFIG.get("temperature", 0.0)))
        with self.lock:
            if self.chat:
                for chunk in self.llm.create_chat_completion(messages=messages, **params):
                    yield chunk["choices"][0]["delta"].get("content") or ""
                return
            # a base model (no chat template) continues a transcript, as TorchModel does
            text = "\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in messages) + "\nAssistant:"
            for chunk in self.llm.create_completion(text, stop=["\nUser:"], **params):
                yield chunk["choices"][0]["text"]


MODEL = LlamaModel() if CONFIG.get("engine") == "llama.cpp" else TorchModel()
RETRIEVER = Retriever(HERE / CONFIG["index"], local(CONFIG["embedder"]), int(CONFIG.get("k", 4))) \
    if CONFIG.get("index") else None


def respond(message: str, history: list):
    history = [{"role": m["role"], "content": m["content"] if isinstance(m["content"], str) else
                "".join(p.get("text", "") for p in m["content"] if isinstance(p, dict))} for m in history or []]
    system = [CONFIG.get("system") or ""]
    if RETRIEVER is not None:
        instructions, message = with_sources(message, RETRIEVER.search(message))
        system.append(instructions)
    system = "\n\n".join(s for s in system if s)
    turns = ([{"role": "system", "content": system}] if system else []) + history + [{"role": "user", "content": message}]
    reply = ""
    for piece in MODEL.stream(turns):
        reply += piece
        yield reply


demo = gr.ChatInterface(respond, title=CONFIG.get("title", "Chat"), description=CONFIG.get("description", ""),
                        api_name="chat")  # gradio_client: Client(url).predict(message, api_name="/chat")

if __name__ == "__main__":
    demo.launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
