"""A small vision transformer (Dosovitskiy et al., 2021) sized for CPUs.

Patches (a Conv2D with stride = patch side) become tokens, a learned
position embedding is added, pre-norm transformer blocks (LayerNorm,
Keras' MultiHeadAttention, a GELU MLP, residual adds) mix them, and the
head is the one every architecture shares (models.py passes it in).

Pooling, not a class token: the tokens are averaged (global average
pooling), as in "Better plain ViT baselines" (Beyer et al., 2022), which
matches a class token's accuracy. It also keeps every token tied to its
patch up to the head, so the last block's output, reshaped to the patch
grid (the layer named `TOKEN_MAP`), is a spatial feature map that Grad-CAM
weights exactly as it weights a CNN's last convolution.

The one layer of our own, `PositionEmbedding`, is registered with Keras
under "imgpipe>PositionEmbedding", so a SavedModel saved without traces is
rebuilt from its config by any process that imports this module
(models.py imports it).
"""
from __future__ import annotations

import math
from typing import Callable

import tensorflow as tf

layers = tf.keras.layers
TOKEN_MAP = "token_map"
MAX_TOKENS_PER_SIDE = 8      # at most 64 tokens: attention stays cheap


@tf.keras.utils.register_keras_serializable(package="imgpipe")
class PositionEmbedding(layers.Layer):
    """Adds a learned vector per token position to [batch, tokens, dim]."""

    def build(self, input_shape):
        self.embedding = self.add_weight(
            name="embedding", shape=(1, input_shape[1], input_shape[2]),
            initializer=tf.keras.initializers.TruncatedNormal(stddev=0.02))
        super().build(input_shape)

    def call(self, tokens):
        return tokens + tf.cast(self.embedding, tokens.dtype)


def patch_side(image_side: int) -> int:
    """Patch side that keeps the tokens between 16 and 64: 2 for 8x8
    digits, 4 for 28x28, 6 for 48x48, side/8 for larger images."""
    return max(2, math.ceil(image_side / MAX_TOKENS_PER_SIDE))


def _block(tokens, width: int, heads: int, mlp_width: int, dropout: float):
    """A pre-norm transformer block: x + MHA(LN(x)), then x + MLP(LN(x))."""
    x = layers.LayerNormalization(epsilon=1e-6)(tokens)
    x = layers.MultiHeadAttention(num_heads=heads, key_dim=width // heads,
                                  dropout=dropout)(x, x)
    tokens = layers.Add()([tokens, x])
    x = layers.LayerNormalization(epsilon=1e-6)(tokens)
    x = layers.Dense(mlp_width, activation="gelu")(x)
    x = layers.Dense(width)(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    return layers.Add()([tokens, x])


def vit(input_shape, head: Callable, dropout=0.0, width=64, depth=4,
        heads=4) -> tf.keras.Model:
    """Patch embedding, `depth` transformer blocks of `width` channels,
    average pooling of the tokens, then `head` (pooled features ->
    probabilities)."""
    patch = patch_side(max(input_shape[:2]))
    grid = (math.ceil(input_shape[0] / patch), math.ceil(input_shape[1] / patch))
    inputs = layers.Input(shape=input_shape, name="image")
    x = layers.Conv2D(width, patch, strides=patch, padding="same",
                      name="patch_embedding")(inputs)
    x = layers.Reshape((grid[0] * grid[1], width))(x)
    x = PositionEmbedding(name="position_embedding")(x)
    for _ in range(depth):
        x = _block(x, width, heads, 2 * width, dropout)
    x = layers.Reshape((*grid, width), name=TOKEN_MAP)(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    x = layers.GlobalAveragePooling2D()(x)
    return tf.keras.Model(inputs, head(x), name="vit")
