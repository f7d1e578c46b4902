"""Stage 1, the Playground: chat with a model, see its tokens and probabilities, compare decodings."""
