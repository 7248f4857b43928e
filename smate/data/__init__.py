"""Reading data: image sets from their sources into uint8 arrays, the imbalanced split, example data and
augmentation. The names `smate.data` had as one module stay importable from here."""

from .dataset import (CIFAR_DIR, IMAGE_SUFFIXES, PROFILES, SOURCES, SPLITS, Dataset, Entry, class_counts, class_ids,
                      detect_source, draw_test_split, load_dataset, load_from_params, make_imbalanced, minority_ids_of,
                      profile_counts)

__all__ = ["CIFAR_DIR", "IMAGE_SUFFIXES", "PROFILES", "SOURCES", "SPLITS", "Dataset", "Entry", "class_counts", "class_ids",
           "detect_source", "draw_test_split", "load_dataset", "load_from_params", "make_imbalanced", "minority_ids_of",
           "profile_counts"]
