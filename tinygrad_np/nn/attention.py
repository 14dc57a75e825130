"""``nn.MultiheadAttention``: PyTorch's layer, its arguments, parameter names, masks and return values.

Every head attends with softmax(q kᵀ / √head_dim + mask) v over its own slice of
the projected embedding; the heads' outputs are concatenated and projected
again. Masks follow PyTorch's convention for this layer: a boolean
``key_padding_mask`` or ``attn_mask`` is True where attending is *not*
allowed (the opposite of ``F.scaled_dot_product_attention``'s), a float one is
added to the scores. A query row every key of which is masked gets all-zero
weights and so the output projection's bias, whether or not the weights are
asked for (PyTorch gives that with need_weights=False, and NaN with
need_weights=True, its default); its gradient is zero, never NaN.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.jit_seam import note
from ..core.tensor import Tensor
from ..numpy_functions import concatenate, where
from ..typing import DType, Seed, TensorLike
from . import functional as F
from .init import xavier_normal_, xavier_uniform_
from .layers import Linear, _generator
from .module import Module


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear by PyTorch's name for MultiheadAttention's output projection (the name shows in printouts)."""


class MultiheadAttention(Module):
    """PyTorch's nn.MultiheadAttention.

    ``MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
    kdim=None, vdim=None, batch_first=False)``; parameters ``in_proj_weight`` (3E, E) (or ``q_proj_weight``,
    ``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim) when kdim or vdim differ from E), ``in_proj_bias``
    (3E,), ``bias_k`` and ``bias_v`` (1, 1, E) with add_bias_kv, and ``out_proj`` (a Linear(E, E)); initialised
    as PyTorch's (Xavier-uniform projections, zero biases).

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` returns (output, weights): query (L, N, E), key (S, N, kdim),
    value (S, N, vdim) ((N, L, E) ... with batch_first; (L, E) ... unbatched); output like query; weights
    (N, L, S) averaged over the heads, (N, num_heads, L, S) with average_attn_weights=False, or None with
    need_weights=False. ``key_padding_mask`` (N, S); ``attn_mask`` (L, S) or (N·num_heads, L, S); each boolean
    (True: masked) or float (added). ``is_causal`` is PyTorch's hint that attn_mask is the causal mask: it needs
    attn_mask, and here a mask that is not causal is refused rather than replaced. ``dropout`` drops attention
    weights in training. See the module's docstring for rows whose every key is masked.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, rng: Seed = None,
                 dtype: DType = np.float32) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim must be divisible by num_heads, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads}")
        if not 0 <= dropout <= 1:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1], got {dropout}")
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, dropout, batch_first
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.head_dim = embed_dim // num_heads
        self.add_zero_attn = add_zero_attn
        self.rng = _generator(rng)  # initialises the weights, then draws the dropout masks

        def parameter(shape: tuple[int, ...]) -> Tensor:
            return Tensor(np.zeros(shape, dtype), requires_grad=True)

        # In PyTorch's order, which is its state_dict's.
        if self._qkv_same_embed_dim:
            self.in_proj_weight = xavier_uniform_(parameter((3 * embed_dim, embed_dim)), rng=self.rng)
        else:
            self.q_proj_weight = xavier_uniform_(parameter((embed_dim, embed_dim)), rng=self.rng)
            self.k_proj_weight = xavier_uniform_(parameter((embed_dim, self.kdim)), rng=self.rng)
            self.v_proj_weight = xavier_uniform_(parameter((embed_dim, self.vdim)), rng=self.rng)
        self.in_proj_bias = parameter((3 * embed_dim,)) if bias else None
        self.bias_k = xavier_normal_(parameter((1, 1, embed_dim)), rng=self.rng) if add_bias_kv else None
        self.bias_v = xavier_normal_(parameter((1, 1, embed_dim)), rng=self.rng) if add_bias_kv else None
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, rng=self.rng, dtype=dtype)
        if self.out_proj.bias is not None:
            self.out_proj.bias.data[...] = 0

    # ---- forward --------------------------------------------------------------------------------------------
    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: TensorLike | None = None,
                need_weights: bool = True, attn_mask: TensorLike | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        batched = self._check_shapes(query, key, value, key_padding_mask, attn_mask)
        if batched and self.batch_first:
            query, key, value = (t.swapaxes(0, 1) for t in (query, key, value))
        if not batched:  # a batch of one, taken off again at the end
            query, key, value = (t.reshape((t.shape[0], 1, t.shape[1])) for t in (query, key, value))
        steps, batch, embed = query.shape
        heads, head_dim = self.num_heads, self.head_dim
        if is_causal and attn_mask is None:
            raise ValueError("MultiheadAttention: Need attn_mask if specifying the is_causal hint. You may use the "
                             "Transformer module method `generate_square_subsequent_mask` to create this mask "
                             "(is_causal says that attn_mask is causal; it is not a mask itself)")
        if is_causal and (self.bias_k is not None or self.add_zero_attn):
            raise ValueError("MultiheadAttention: is_causal=True with add_bias_kv or add_zero_attn is ambiguous: "
                             "PyTorch's two paths disagree on whether early queries see the added key (its "
                             "need_weights=False path hides it, need_weights=True shows it). Pass is_causal=False: "
                             "attn_mask is then used as given, the added key visible to every query")

        q, k, v = self._project(query, key, value)
        padding = self._mask(key_padding_mask, "key_padding_mask", q.dtype)
        if padding is not None:
            if not batched:
                padding = padding.reshape((1,) + padding.shape)
            if padding.shape != (batch, key.shape[0]):
                raise ValueError(f"MultiheadAttention: expected key_padding_mask of shape {(batch, key.shape[0])}, "
                                 f"got {padding.shape}")
            padding = padding.reshape((batch, 1, 1, key.shape[0]))
        attention_mask = self._mask(attn_mask, "attn_mask", q.dtype)
        if attention_mask is not None:
            attention_mask = self._check_attn_mask(attention_mask, steps, key.shape[0], batch, is_causal)
        if self.bias_k is not None and self.bias_v is not None:  # one more key and value, never masked
            k = concatenate([k, self.bias_k.broadcast_to((1, batch, embed))], axis=0)
            v = concatenate([v, self.bias_v.broadcast_to((1, batch, embed))], axis=0)
            padding, attention_mask = _one_more_key(padding), _one_more_key(attention_mask)
        # (S, N, E) -> (N, heads, S, head_dim): head h of example n is PyTorch's batch row n·heads + h
        q, k, v = (t.reshape((t.shape[0], batch, heads, head_dim)).transpose(1, 2, 0, 3) for t in (q, k, v))
        if self.add_zero_attn:  # and one more zero key and value
            zeros = Tensor(np.zeros((batch, heads, 1, head_dim), q.dtype))
            k, v = concatenate([k, zeros], axis=2), concatenate([v, zeros], axis=2)
            padding, attention_mask = _one_more_key(padding), _one_more_key(attention_mask)
        # The is_causal hint, when nothing else needs the mask, is used as PyTorch uses it: the checked mask is
        # dropped, and F.scaled_dot_product_attention masks the future itself (so a float mask gets no gradient).
        hinted = is_causal and padding is None and not need_weights
        if hinted:
            attention_mask = None
        mask = padding if attention_mask is None else attention_mask if padding is None else attention_mask + padding
        p = self.dropout if self.training else 0.0

        if mask is None and not need_weights:  # nothing masked, no weights wanted: PyTorch's fused attention too
            out = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=hinted, rng=self.rng)
            weights = None
        else:
            scores = (q * math.sqrt(1.0 / head_dim)) @ k.swapaxes(-1, -2)  # (N, heads, L, S)
            if mask is not None:
                # A row whose every key is masked is all -inf: softmax would give 0/0. It gets zero weights
                # instead, and zero gradient, with where (never multiplying a NaN by 0).
                empty = note(_empty_rows, mask._data)
                scores = where(empty, 0.0, scores + mask)
            weights = scores.softmax(axis=-1)
            if mask is not None:
                weights = where(empty, 0.0, weights)
            if p:
                weights = F.dropout(weights, p, True, self.rng)
            out = weights @ v
        out = self.out_proj(out.transpose(2, 0, 1, 3).reshape((steps, batch, embed)))  # (L, N, E)
        if batched and self.batch_first:
            out = out.swapaxes(0, 1)
        if not batched:
            out = out[:, 0]
        if not need_weights:
            return out, None
        assert weights is not None
        if average_attn_weights:
            weights = weights.mean(axis=1)
        return out, weights if batched else weights[0]

    # ---- parts ----------------------------------------------------------------------------------------------
    def _project(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """query, key and value through their projections: one product when they are one tensor (self-attention
        with a packed weight), else one each."""
        e, bias = self.embed_dim, self.in_proj_bias
        biases = (None, None, None) if bias is None else (bias[:e], bias[e:2 * e], bias[2 * e:])
        if self._qkv_same_embed_dim:
            if query is key and key is value:
                both = F.linear(query, self.in_proj_weight, bias)
                return both[..., :e], both[..., e:2 * e], both[..., 2 * e:]
            weights = (self.in_proj_weight[:e], self.in_proj_weight[e:2 * e], self.in_proj_weight[2 * e:])
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        return (F.linear(query, weights[0], biases[0]), F.linear(key, weights[1], biases[1]),
                F.linear(value, weights[2], biases[2]))

    @staticmethod
    def _mask(mask: TensorLike | None, name: str, dtype: np.dtype) -> Tensor | None:
        """A mask as something to add to the scores: a boolean one as -inf where True and 0 elsewhere, a float one
        as it is (a Tensor keeps its gradient). Integers are refused, as PyTorch refuses them: a tokenizer's 0/1
        mask added to the scores would mask nothing."""
        if mask is None:
            return None
        tensor = mask if isinstance(mask, Tensor) else Tensor(np.asarray(mask), dtype=np.asarray(mask).dtype)
        if tensor.dtype == bool:
            return Tensor._make(note(_additive, tensor._data, np.dtype(dtype)), False)
        if tensor.dtype.kind != "f":
            raise TypeError(f"MultiheadAttention: only bool and floating types of {name} are supported, got "
                            f"{tensor.dtype}; for a 0/1 mask of positions to ignore, pass mask.astype(bool)")
        return tensor if tensor.dtype == dtype else tensor.astype(dtype)

    def _check_attn_mask(self, mask: Tensor, steps: int, keys: int, batch: int, is_causal: bool) -> Tensor:
        if mask.ndim == 2:
            if mask.shape != (steps, keys):
                raise ValueError(f"The shape of the 2D attn_mask is {mask.shape}, but should be {(steps, keys)}.")
            shaped = mask.reshape((1, 1, steps, keys))
        elif mask.ndim == 3:
            expected = (batch * self.num_heads, steps, keys)
            if mask.shape != expected:
                raise ValueError(f"The shape of the 3D attn_mask is {mask.shape}, but should be {expected}.")
            shaped = mask.reshape((batch, self.num_heads, steps, keys))
        else:
            raise ValueError(f"attn_mask's dimension {mask.ndim} is not supported")
        if is_causal:
            note(_check_causal, mask._data)
        return shaped

    def _check_shapes(self, query: Any, key: Any, value: Any, key_padding_mask: Any, attn_mask: Any) -> bool:
        """PyTorch's checks of the inputs' dimensions; True for batched (3-D) input."""
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise TypeError(f"MultiheadAttention: {name} must be a Tensor, got {type(t).__name__}")
        if query.ndim not in (2, 3):
            raise ValueError(f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D query "
                             "tensor")
        batched = query.ndim == 3
        if key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(f"For {'batched (3-D)' if batched else 'unbatched (2-D)'} `query`, expected `key` and "
                             f"`value` to be {query.ndim}-D but found {key.ndim}-D and {value.ndim}-D tensors "
                             "respectively")
        if key_padding_mask is not None and np.ndim(_values(key_padding_mask)) != (2 if batched else 1):
            raise ValueError(f"For {'batched (3-D)' if batched else 'unbatched (2-D)'} `query`, expected "
                             f"`key_padding_mask` to be `None` or {2 if batched else 1}-D but found "
                             f"{np.ndim(_values(key_padding_mask))}-D tensor instead")
        if query.shape[-1] != self.embed_dim:
            raise ValueError(f"was expecting embedding dimension of {self.embed_dim}, but got {query.shape[-1]}")
        if key.shape[-1] != self.kdim or value.shape[-1] != self.vdim:
            raise ValueError(f"MultiheadAttention: key and value must end in kdim={self.kdim} and vdim={self.vdim}, "
                             f"got {key.shape} and {value.shape}")
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(f"key's sequence and batch dims {key.shape[:-1]} do not match value's "
                             f"{value.shape[:-1]}")
        batch_axis = 0 if self.batch_first else 1
        if batched and query.shape[batch_axis] != key.shape[batch_axis]:
            raise ValueError(f"MultiheadAttention: query has batch size {query.shape[batch_axis]} but key and value "
                             f"{key.shape[batch_axis]}")
        return batched


def _values(mask: Any) -> np.ndarray:
    return mask._data if isinstance(mask, Tensor) else np.asarray(mask)


def _additive(mask: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """A boolean mask (True: masked) as an additive one: -inf where True, 0 elsewhere."""
    return np.where(mask, -np.inf, 0.0).astype(dtype)


def _empty_rows(mask: np.ndarray) -> np.ndarray:
    """Where every key of a query row is masked (-inf): (..., L, 1), over the mask's broadcast shape."""
    return np.asarray(np.isneginf(mask).all(axis=-1, keepdims=True))


def _one_more_key(mask: Tensor | None) -> Tensor | None:
    """A mask with one more key (column) that nothing masks."""
    if mask is None:
        return None
    return concatenate([mask, Tensor(np.zeros(mask.shape[:-1] + (1,), mask.dtype))], axis=-1)


def _check_causal(mask: np.ndarray) -> np.ndarray:
    """Refuse an attn_mask said to be causal (is_causal=True) that is not: each query may see itself and the
    keys before it, and nothing is added to those."""
    steps, keys = mask.shape[-2:]
    future = np.triu(np.ones((steps, keys), dtype=bool), k=1)
    blocked = mask if mask.dtype == bool else np.isneginf(mask)
    added = np.zeros_like(future) if mask.dtype == bool else (mask != 0) & ~np.isneginf(mask)
    if not (np.array_equal(np.broadcast_to(blocked, mask.shape), np.broadcast_to(future, mask.shape))
            and not added.any()):
        raise ValueError("MultiheadAttention: is_causal=True, but attn_mask is not the causal mask (True, or -inf, "
                         "exactly above the diagonal, and nothing else). PyTorch would take the hint and ignore the "
                         "mask; pass is_causal=False to use the mask as it is")
    return mask
