"""Reading data: image sets from their registered sources (smate/data/sources/) into uint8 arrays, decoding and
resizing, the imbalanced split, example data and augmentation. The names `smate.data` had as one module stay
importable from here."""

from .dataset import IMAGE_SUFFIXES, SPLITS, Dataset, Entry, draw_test_split
from .sources import SOURCES, detect_source, load_dataset, load_from_params
from .split import PROFILES, class_counts, class_ids, make_imbalanced, minority_ids_of, profile_counts, split_digest

__all__ = ["IMAGE_SUFFIXES", "PROFILES", "SOURCES", "SPLITS", "Dataset", "Entry", "class_counts", "class_ids",
           "detect_source", "draw_test_split", "load_dataset", "load_from_params", "make_imbalanced", "minority_ids_of",
           "profile_counts", "split_digest"]
