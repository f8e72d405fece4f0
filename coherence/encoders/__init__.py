"""Sentence encoders (torch, int8 ONNX, static token table), the cache wrapper, and the
builders that make the derived models once in the user cache."""
