"""The lab's own OpenAI-compatible server: `routes` (HTTP), `engine` (queued generation, embeddings),
`schemas` (request bodies, OpenAI-style errors), `cli` (`llmlab api`)."""
