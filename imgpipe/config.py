"""The one typed configuration object of a pipeline run.

Every setting a component needs comes from here; the CLI and the runners
build a `PipelineConfig` and nothing else reads settings of its own.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Optional, Tuple


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    """Offline augmentation of the train split (Beam component)."""
    copies: int = 1                    # augmented copies per train image
    # Oversample smaller classes until each has at least this fraction of
    # the largest class's count (after `copies`); 0 = off.
    rebalance_to: float = 0.0
    flip_left_right: float = 0.0       # probability; mirrored digits are not digits
    flip_up_down: float = 0.0
    max_rotation_degrees: float = 12.0
    zoom_range: Tuple[float, float] = (0.9, 1.1)
    max_shift_fraction: float = 0.08   # crop/translate, fraction of the side
    brightness_delta: float = 0.0
    contrast_range: Tuple[float, float] = (1.0, 1.0)


@dataclasses.dataclass(frozen=True)
class DataGateConfig:
    """Bounds of the Great Expectations suite over the image metadata."""
    allowed_formats: Tuple[str, ...] = ("PNG", "JPEG", "BMP", "GIF")
    min_side: int = 8
    max_side: int = 4096
    max_pixels: int = 4096 * 4096      # reject bigger images before decoding
    min_rows: int = 20
    min_per_class: int = 2
    max_class_imbalance: float = 10.0  # largest class / smallest class
    fail_on_schema_anomalies: bool = True
    max_per_class: int = 0             # 0 = no upper bound
    imbalance_is_critical: bool = False
    allowed_channels: Tuple[int, ...] = (1, 2, 3, 4)
    # Drift against the previous span (Jensen-Shannon divergence, base 2:
    # 0 = same distribution, 1 = disjoint); only when spans are configured.
    max_label_drift: float = 0.1
    max_size_drift: float = 0.2
    drift_is_critical: bool = True
    # A curated schema (schema.pbtxt) for ImportSchemaGen; "" = SchemaGen infers.
    accepted_schema: str = ""


@dataclasses.dataclass(frozen=True)
class IngestConfig:
    """How ImageExampleGen finds and reads the data (docs/ingestion.md)."""
    format: str = "auto"               # auto | folders | cifar | csv | tfrecord
    # Folder of each span under the data root, e.g. "span-{SPAN}"; the run
    # ingests the latest span and compares it with the one before. "" = none.
    span_pattern: str = ""
    manifest_name: str = "manifest.csv"    # csv format: `path,label` rows
    # Class names for csv/tfrecord data without a labels.txt beside it.
    class_names: Tuple[str, ...] = ()
    # gs:// requests: per-request timeout, then retries with back-off on
    # transient errors (429, 5xx, dropped connections) until the deadline.
    gcs_timeout_s: float = 60.0
    gcs_retry_initial_s: float = 1.0
    gcs_retry_max_s: float = 30.0
    gcs_retry_multiplier: float = 2.0
    gcs_retry_deadline_s: float = 300.0
    # Concurrent downloads per Beam worker for gs:// input (latency-bound).
    gcs_read_threads: int = 4    # measured: benchmarks/results/ingest.md


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    # The default: the only one that matches SVC(gamma=0.001) on the digits
    # (benchmarks/results/quality.md); small_cnn is the classic baseline.
    architecture: str = "residual_cnn"  # residual_cnn | small_cnn | transfer
    epochs: int = 15
    batch_size: int = 32
    learning_rate: float = 1e-3
    lr_schedule: str = "cosine"        # cosine | constant
    dropout: float = 0.0
    l2: float = 0.0
    early_stopping_patience: int = 0   # epochs without eval gain; 0 = off
    class_weights: bool = False        # weight classes by inverse frequency
    online_augmentation: bool = False  # fresh random augmentation per epoch
    # Transfer learning: a Keras application, weights from a local or gs://
    # .h5/.weights.h5 file; random initialisation when empty.
    transfer_base: str = "MobileNetV2"
    transfer_weights: str = ""
    mixed_precision: bool = True       # on GPU only; CPUs compute in float32
    # Optional KerasTuner search (Tuner component) whose best learning rate,
    # dropout and L2 feed the Trainer.
    tune: bool = False
    tune_algorithm: str = "random"     # random | bayesian
    tune_trials: int = 4
    tune_epochs: int = 3
    seed: int = 42


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    min_accuracy: float = 0.9          # absolute bound
    max_accuracy_drop: float = 0.0     # allowed drop vs the model in service
    num_classes: int = 10              # class ids 0..n-1 for per-class metrics
    # Macro-averaged gates; None = reported, not gated. Change thresholds
    # apply only when a baseline exists (TFX drops them otherwise).
    min_macro_precision: Optional[float] = None
    max_macro_precision_drop: Optional[float] = None
    min_macro_recall: Optional[float] = None
    max_macro_recall_drop: Optional[float] = None
    min_macro_f1: Optional[float] = None
    max_macro_f1_drop: Optional[float] = None


@dataclasses.dataclass(frozen=True)
class EdgeConfig:
    """TensorFlow Lite exports (components/edge_export), off by default."""
    enabled: bool = False
    formats: Tuple[str, ...] = ("float32", "float16", "int8")
    max_accuracy_drop: float = 0.01    # vs the SavedModel on the eval split
    representative_images: int = 200   # int8 calibration, from train


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    data_root: Path
    output_root: Path = Path("output")
    pipeline_name: str = "imgpipe"
    model_name: str = "digits"
    image_size: int = 32               # the embedded digits use 16 (digits.py)
    channels: int = 1
    train_buckets: int = 8             # train:eval = 8:2 by hash of image_id
    eval_buckets: int = 2
    augment: AugmentConfig = AugmentConfig()
    data_gate: DataGateConfig = DataGateConfig()
    ingest: IngestConfig = IngestConfig()
    train: TrainConfig = TrainConfig()
    edge: EdgeConfig = EdgeConfig()
    evaluation: EvalConfig = EvalConfig()
    beam_pipeline_args: Tuple[str, ...] = ()
    enable_cache: bool = True
    # Move the canary to stable at the end of a run when policy allows.
    # Off by default: production promotion is a person's decision.
    auto_promote: bool = False

    @property
    def pipeline_root(self) -> str:
        return str(self.output_root / "pipeline_root")

    @property
    def metadata_path(self) -> str:
        return str(self.output_root / "metadata.sqlite")

    @property
    def serving_dir(self) -> str:
        """TF Serving's model base path: one numbered folder per version."""
        return str(self.output_root / "serving" / self.model_name)

    def resolved(self) -> "PipelineConfig":
        """Absolute local paths: TFX records them in ML Metadata."""
        def absolute(path: Path) -> Path:
            return path if "://" in str(path) else Path(os.path.abspath(path))
        return dataclasses.replace(self, data_root=absolute(self.data_root),
                                   output_root=absolute(self.output_root))


@dataclasses.dataclass(frozen=True)
class ComponentResources:
    """One component's container on Kubernetes (0 = leave to the cluster).

    Units follow KFP's ResourceSpec, which the KFP driver turns into the
    pod's requests/limits: CPU in cores, memory in GB (10^9 bytes).
    """
    cpu_request: float = 0.0
    cpu_limit: float = 0.0
    memory_request_gb: float = 0.0
    memory_limit_gb: float = 0.0


@dataclasses.dataclass(frozen=True)
class Toleration:
    """A Kubernetes toleration, e.g. for the taint GPU node pools carry."""
    key: str
    operator: str = "Exists"
    value: str = ""
    effect: str = "NoSchedule"


@dataclasses.dataclass(frozen=True)
class KubeflowConfig:
    """Where and how the pipeline runs on Kubeflow Pipelines 2.x.

    Paths are plain strings: `gs://` URIs do not survive `pathlib.Path`
    (it folds `//`), and in the cluster every path is an object-store URI.
    """
    image: str = "ghcr.io/imgpipe/imgpipe:0.1.0"
    pipeline_root: str = "gs://imgpipe-artifacts/pipeline_root"
    data_root: str = "gs://imgpipe-data/images/digits"
    model_store: str = "gs://imgpipe-models/serving"   # model name appended
    gpu_count: int = 1                                  # 0 trains on CPU
    gpu_resource: str = "nvidia.com/gpu"
    gpu_node_selector: Tuple[Tuple[str, str], ...] = (
        ("cloud.google.com/gke-accelerator", "nvidia-tesla-t4"),)
    gpu_tolerations: Tuple[Toleration, ...] = (Toleration(key="nvidia.com/gpu"),)
    example_gen: ComponentResources = ComponentResources(
        cpu_request=2, memory_request_gb=4, memory_limit_gb=8)
    transform: ComponentResources = ComponentResources(
        cpu_request=4, cpu_limit=8, memory_request_gb=8, memory_limit_gb=16)
    trainer: ComponentResources = ComponentResources(
        cpu_request=4, cpu_limit=8, memory_request_gb=16, memory_limit_gb=16)
    evaluator: ComponentResources = ComponentResources(
        cpu_request=2, cpu_limit=4, memory_request_gb=8, memory_limit_gb=12)
    beam_pipeline_args: Tuple[str, ...] = ()
    service_account: str = "imgpipe-pipeline-runner"
