import os

# TFX 1.16, tf.Transform and TFMA are built on Keras 2 (the tf-keras package);
# TensorFlow 2.16 would otherwise bind tf.keras to Keras 3 on first use.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
