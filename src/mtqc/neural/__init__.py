"""Neural models below the engines: the model manifest and where models are found or fetched
(`manifest`), the persistent cache of model outputs (`cache`), the causal LM that scores fluency
(`lm`), sentence embeddings (`embeddings`) and length batching (`batching`).

Nothing here imports torch or transformers at import time: an offline check never pays for them.
"""
