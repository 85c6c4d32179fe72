"""The bundled all-MiniLM-L6-v2 in plain torch: a BERT encoder, mean pooling and L2 normalisation.

Loading it through sentence-transformers imports transformers, scikit-learn, SciPy, pandas and torch's compiler
stack: about 5 s of CPU before the first question, against 1.5 s for torch alone. This module runs the same
weights (``model.safetensors``) and the same tokenizer (``tokenizer.json``, through ``tokenizers``) with the few
operations the model needs, and offers the part of ``SentenceTransformer``'s interface the embedder uses
(``encode``, ``tokenizer``, ``max_seq_length``, ``get_embedding_dimension``). Its vectors match
sentence-transformers' to float precision (``tests/integration/test_minilm.py``). Other models still load through
sentence-transformers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer
from torch import nn
from torch.nn import functional


class _Attention(nn.Module):
    def __init__(self, hidden: int, heads: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = (nn.Linear(hidden, hidden) for _ in range(3))
        self.dense = nn.Linear(hidden, hidden)
        self.norm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, h = x.shape

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, n, self.heads, h // self.heads).transpose(1, 2)

        ctx = functional.scaled_dot_product_attention(split(self.query(x)), split(self.key(x)),
                                                      split(self.value(x)), attn_mask=mask)
        return self.norm(self.dense(ctx.transpose(1, 2).reshape(b, n, h)) + x)


class _Layer(nn.Module):
    def __init__(self, hidden: int, heads: int, intermediate: int, eps: float) -> None:
        super().__init__()
        self.attention = _Attention(hidden, heads, eps)
        self.intermediate = nn.Linear(hidden, intermediate)
        self.output = nn.Linear(intermediate, hidden)
        self.norm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.attention(x, mask)
        return self.norm(self.output(functional.gelu(self.intermediate(x))) + x)


class BertEncoder(nn.Module):
    """BERT's embeddings and encoder layers (no pooler), inference only."""

    def __init__(self, config: dict[str, Any], state: dict[str, torch.Tensor]) -> None:
        """``state``: a ``BertModel`` state dict as transformers saves it; its tensors become the parameters."""
        super().__init__()
        hidden, eps = int(config["hidden_size"]), float(config["layer_norm_eps"])
        # From the weights directly: a randomly initialised 30522 x 384 table costs 0.1-0.2 s to fill.
        self.words = nn.Embedding.from_pretrained(state["embeddings.word_embeddings.weight"])
        self.positions = nn.Embedding.from_pretrained(state["embeddings.position_embeddings.weight"])
        self.token_types = nn.Embedding.from_pretrained(state["embeddings.token_type_embeddings.weight"])
        self.norm = nn.LayerNorm(hidden, eps=eps)
        self.layers = nn.ModuleList(_Layer(hidden, int(config["num_attention_heads"]), int(config["intermediate_size"]),
                                           eps) for _ in range(int(config["num_hidden_layers"])))
        self._load_bert_weights(state)

    def forward(self, ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        n = ids.shape[1]
        x = self.norm(self.words(ids) + self.positions.weight[:n] + self.token_types.weight[0])
        # Padding is masked out of every query's attention: 0 where a key is a token, -inf-like where it is padding.
        mask = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for layer in self.layers:
            x = layer(x, mask)
        return x

    def _load_bert_weights(self, state: dict[str, torch.Tensor]) -> None:
        names = {"words.weight": "embeddings.word_embeddings.weight",
                 "positions.weight": "embeddings.position_embeddings.weight",
                 "token_types.weight": "embeddings.token_type_embeddings.weight",
                 "norm.weight": "embeddings.LayerNorm.weight", "norm.bias": "embeddings.LayerNorm.bias"}
        parts = {"attention.query": "attention.self.query", "attention.key": "attention.self.key",
                 "attention.value": "attention.self.value", "attention.dense": "attention.output.dense",
                 "attention.norm": "attention.output.LayerNorm", "intermediate": "intermediate.dense",
                 "output": "output.dense", "norm": "output.LayerNorm"}
        for i in range(len(self.layers)):
            for ours, theirs in parts.items():
                for p in ("weight", "bias"):
                    names[f"layers.{i}.{ours}.{p}"] = f"encoder.layer.{i}.{theirs}.{p}"
        self.load_state_dict({ours: state[theirs] for ours, theirs in names.items()}, strict=True, assign=True)


class WordPieces:
    """The tokenizer calls the embedder makes of a transformers fast tokenizer, over ``tokenizers`` alone."""

    def __init__(self, tokenizer: Tokenizer, special_tokens: Sequence[str]) -> None:
        self.backend_tokenizer = tokenizer
        self.all_special_tokens = list(special_tokens)

    def convert_ids_to_tokens(self, ids: Sequence[int]) -> list[str]:
        return [self.backend_tokenizer.id_to_token(i) or "" for i in ids]


class MiniLM:
    """all-MiniLM-L6-v2 (BERT, mean pooling, normalisation) from its sentence-transformers folder."""

    def __init__(self, path: str | Path, device: str = "cpu") -> None:
        path = Path(path)
        config = json.loads((path / "config.json").read_text())
        self.max_seq_length = int(json.loads((path / "sentence_bert_config.json").read_text())["max_seq_length"])
        self.dimension = int(config["hidden_size"])
        self.device = torch.device(device)
        self.encoder = BertEncoder(config, load_file(str(path / "model.safetensors")))
        self.encoder.eval().to(self.device)
        specials = json.loads((path / "special_tokens_map.json").read_text())
        tok = Tokenizer.from_file(str(path / "tokenizer.json"))
        tok.enable_truncation(self.max_seq_length)
        tok.enable_padding(pad_id=tok.token_to_id(specials["pad_token"]), pad_token=specials["pad_token"])
        self.tokenizer = WordPieces(tok, [specials[k] for k in sorted(specials)])

    def modules(self) -> Any:
        """The torch modules (for quantisation and inspection)."""
        return self.encoder.modules()

    def get_embedding_dimension(self) -> int:
        return self.dimension

    def encode(self, texts: Sequence[str], *, batch_size: int = 32, normalize_embeddings: bool = False,
               convert_to_numpy: bool = True, show_progress_bar: bool = False, output_value: str | None = "x"
               ) -> Any:
        """As ``SentenceTransformer.encode``: a float32 array of sentence vectors, or with ``output_value=None``
        one dict per text (``sentence_embedding``, ``token_embeddings``, ``input_ids``, ``attention_mask``). Vectors
        are unit length whatever ``normalize_embeddings`` says: the model ends with a ``Normalize`` module."""
        import numpy as np

        # Longest first, as sentence-transformers does, so each batch pads to similar lengths.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out: list[Any] = [None] * len(texts)
        starts = range(0, len(texts), batch_size)
        if show_progress_bar:
            from tqdm import tqdm

            starts = tqdm(starts, total=math.ceil(len(texts) / batch_size), desc="Batches")
        for s in starts:
            idx = order[s:s + batch_size]
            enc = self.tokenizer.backend_tokenizer.encode_batch([texts[i] for i in idx])
            ids = torch.tensor([e.ids for e in enc], device=self.device)
            mask = torch.tensor([e.attention_mask for e in enc], device=self.device)
            with torch.inference_mode():
                tokens = self.encoder(ids, mask)
                weights = mask.unsqueeze(-1).to(tokens.dtype)
                pooled = (tokens * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
                pooled = functional.normalize(pooled, p=2, dim=1)
            for row, i in enumerate(idx):
                out[i] = ({"sentence_embedding": pooled[row], "token_embeddings": tokens[row], "input_ids": ids[row],
                           "attention_mask": mask[row]} if output_value is None else pooled[row])
        if output_value is None:
            return out
        vecs = torch.stack(out) if out else torch.zeros((0, self.dimension))
        return vecs.cpu().numpy().astype(np.float32) if convert_to_numpy else vecs
